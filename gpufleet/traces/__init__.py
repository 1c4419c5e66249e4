"""Real workloads: readers for public cluster and inference traces, statistics, fitting, replay.

Modules (imported on demand):

- formats: the formats by name; `read_trace` and `characterise` for any of them
- csvread, parse, rows, report, tables: streaming CSV, value parsing, bad-row bookkeeping
- openb, generic, requests, summary, faults: one reader per kind of file
- stats, ks, fit: statistics, Kolmogorov-Smirnov distances, fitting the synthetic generator
- fleet, replay: a trace's fleet as scenario YAML; simulated against real waits
- render, html, cli: rich tables, the HTML page, `gpufleet trace`

See docs/traces.md.
"""
