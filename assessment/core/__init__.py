"""The pure core: the question bank, scoring, the plan, the brief, its wording and costs.

Data in, data out: nothing here imports Flask, a database or the report renderer, so every
rule can be tested and benchmarked on its own (`make lint` enforces this with import-linter).
"""
