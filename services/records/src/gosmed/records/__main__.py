from gosmed.contracts.topology import Service
from gosmed.records.main import create
from gosmed.runtime.service import run

run(create, Service.RECORDS)
