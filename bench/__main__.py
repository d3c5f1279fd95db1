"""Run every benchmark in order: `make bench` is `.venv/bin/python -m bench`."""

from bench import cold_start, render, telegram_roundtrip


def main() -> None:
    render.main()
    print()
    cold_start.main()
    print()
    telegram_roundtrip.main()


if __name__ == "__main__":
    main()
