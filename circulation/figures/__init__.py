"""The figures a network is judged by (统计指标): holdings per capita, loans, turnover, shares.

Defined in docs/figures.md; computed from the ledger's daily aggregate
(aggregates.py) and the holdings history (holdings.py), never from current
loan state, so a past period's figures never change when stock moves later.
"""
