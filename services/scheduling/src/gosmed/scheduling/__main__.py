from gosmed.contracts.topology import Service
from gosmed.runtime.service import run
from gosmed.scheduling.main import create

run(create, Service.SCHEDULING)
