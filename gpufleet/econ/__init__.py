"""Money: prices, the commitment ledger."""

from gpufleet.econ.ledger import committed_between, ledger_table, term_end
from gpufleet.econ.pricing import pool_prices
from gpufleet.econ.value import value_of_time

__all__ = ["committed_between", "ledger_table", "pool_prices", "term_end", "value_of_time"]
