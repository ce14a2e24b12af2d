"""A stand-in `records` service for the sealed-RPC test: a sealed method and a plain one."""
from portfolio_common.nameko_kit import rpc


class Records:
    name = "records"

    @rpc
    def reveal_national_id(self, caller, student_id):
        return {"student_id": student_id, "national_id": "A123456789"}

    @rpc
    def ping(self):
        return "pong"
