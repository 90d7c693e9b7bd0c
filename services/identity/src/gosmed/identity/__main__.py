from gosmed.contracts.topology import Service
from gosmed.identity.main import create
from gosmed.runtime.service import run

run(create, Service.IDENTITY)
