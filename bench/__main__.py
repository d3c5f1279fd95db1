"""Run every benchmark in order: `make bench` is `.venv/bin/python -m bench`."""

from bench import cold_start, fanout, interactive, render, slack_roundtrip, telegram_roundtrip


def main() -> None:
    render.main()
    print()
    cold_start.main()
    print()
    telegram_roundtrip.main()
    print()
    slack_roundtrip.main()
    print()
    fanout.main()
    print()
    interactive.main()


if __name__ == "__main__":
    main()
