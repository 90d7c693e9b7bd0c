from gosmed.contracts.topology import Service
from gosmed.documents.main import create
from gosmed.runtime.service import run

run(create, Service.DOCUMENTS)
