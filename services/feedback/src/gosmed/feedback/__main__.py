from gosmed.contracts.topology import Service
from gosmed.feedback.main import create
from gosmed.runtime.service import run

run(create, Service.FEEDBACK)
