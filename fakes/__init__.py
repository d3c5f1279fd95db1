"""Stand-ins that tests and benchmarks share: the platforms and the storage ports.

`telegram_api` and `slack_api` are fake Telegram and Slack servers on 127.0.0.1 for the real
client libraries to talk to; `memory` implements the ports of `briefings.ports` in memory. They
record what happened (requests, a ledger transcript) instead of mocking calls, so a test reads
what a platform or a database would have seen.

Not part of the installed distribution: importable when pytest or `python -m bench` runs from the
project root.
"""
