from gosmed.contracts.topology import Service
from gosmed.registry.main import create
from gosmed.runtime.service import run

run(create, Service.REGISTRY)
