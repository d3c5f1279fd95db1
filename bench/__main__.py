"""Run every benchmark in order: `make bench` is `.venv/bin/python -m bench`."""

from bench import cold_start, render


def main() -> None:
    render.main()
    print()
    cold_start.main()


if __name__ == "__main__":
    main()
