"""Render time per digest, language and dialect: our Renderer beside a bare jinja2 Environment.

The bare Environment loads the same template files with the same loader and whitespace options
and renders them with the same data dict from the Reply, but with no finalize, `b`/`i` as
identity and `t()` returning its key. The ratio ours/bare is therefore what escaping, the
finalizer, the dialect markup, label lookup, splitting into items and packing into messages cost
on top of plain template execution. Every figure is a median of RUNS timed calls in this run.
"""

import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

import briefings.rendering.renderer
from bench.results import GoalResult
from bot.settings import Settings
from briefings.commands import Scope, answer
from briefings.languages import LANGS, Lang
from briefings.library import Library
from briefings.loader import load_seeds
from briefings.ports import ChatState
from briefings.rendering.dialects import ITEM_BREAK, DialectName
from briefings.rendering.renderer import Renderer
from briefings.replies import Reply

RUNS = 200
WARMUP = 3
# Fresh Renderers built to time the first render, which compiles the templates.
COMPILE_RUNS = 10
# (label, command, view the reply must have)
DIGESTS: tuple[tuple[str, str, str], ...] = (
    # /briefing is the one-screen summary since issue 9.
    ("briefing", "/briefing", "summary"),
    ("day", "/itinerary 2024-08-27", "day"),
    ("who", "/who kang", "who"),
)
DIALECT_NAMES: tuple[DialectName, ...] = ("plain", "telegram", "slack")
TEMPLATES = Path(briefings.rendering.renderer.__file__).with_name("templates")


def medians_ns(fns: dict[str, Callable[[], object]], runs: int = RUNS) -> dict[str, float]:
    """Median wall time of each callable in nanoseconds.

    The callables are timed in turns, one call each per round, so that a slow spell of the
    machine falls on all of them alike and their ratios stay fair. A few untimed calls first.
    """
    for fn in fns.values():
        for _ in range(WARMUP):
            fn()
    samples: dict[str, list[int]] = {key: [] for key in fns}
    for _ in range(runs):
        for key, fn in fns.items():
            start = time.perf_counter_ns()
            fn()
            samples[key].append(time.perf_counter_ns() - start)
    return {key: statistics.median(values) for key, values in samples.items()}


def _identity(value: object) -> object:
    return value


def _key(key: str, **values: object) -> str:
    return key


def _say(say: object) -> str:
    return str(getattr(say, "key", ""))


def _command(name: str) -> str:
    return "/" + name


def bare_environment() -> jinja2.Environment:
    """Same loader and whitespace options as Renderer; none of its escaping or labels."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,  # noqa: S701  # plain text out, as in Renderer
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["b"] = _identity
    env.filters["i"] = _identity
    env.globals["t"] = _key
    env.globals["say"] = _say
    env.globals["cmd"] = _command
    env.globals["cut"] = ITEM_BREAK
    return env


def bare_render(env: jinja2.Environment, reply: Reply) -> str:
    return env.get_template(f"{reply.view}.j2").render(**reply.data, lang=reply.lang)


def scope(library: Library, lang: Lang, now: datetime) -> Scope:
    visit = library.current(now)
    return Scope(library, visit, lang, now, ChatState())


def build_replies(library: Library, now: datetime) -> dict[tuple[str, str], Reply]:
    replies: dict[tuple[str, str], Reply] = {}
    for name, command, view in DIGESTS:
        for lang in LANGS:
            reply = answer(scope(library, lang, now), command).reply
            if reply.view != view:
                raise RuntimeError(f"{command} in {lang} gave view {reply.view!r}, not {view!r}")
            replies[name, lang] = reply
    return replies


def _us(ns: float) -> str:
    return f"{ns / 1000:9.1f}"


def _answer_fns(library: Library, now: datetime, command: str) -> dict[str, Callable[[], object]]:
    def call(lang: Lang) -> Callable[[], object]:
        context = scope(library, lang, now)
        return lambda: answer(context, command)

    return {lang: call(lang) for lang in LANGS}


def _render_fns(
    renderer: Renderer, bare: jinja2.Environment, reply: Reply
) -> dict[str, Callable[[], object]]:
    def ours(
        method: Callable[[Reply, DialectName], object], dialect: DialectName
    ) -> Callable[[], object]:
        return lambda: method(reply, dialect)

    fns: dict[str, Callable[[], object]] = {"bare": lambda: bare_render(bare, reply)}
    for dialect in DIALECT_NAMES:
        fns[f"render {dialect}"] = ours(renderer.render, dialect)
        fns[f"items {dialect}"] = ours(renderer.items, dialect)
    return fns


def _compile_fns(renderer: Renderer, reply: Reply) -> dict[str, Callable[[], object]]:
    return {
        "first": lambda: Renderer().render(reply, "plain"),
        "warm": lambda: renderer.render(reply, "plain"),
    }


def main() -> list[GoalResult]:
    """Figures only: rendering has no goal of its own (its cost shows in the round trips)."""
    library = Library(load_seeds(Settings().seeds_dir))
    # A fixed clock inside the August visit, so the replies are the same on every run.
    now = datetime(2024, 8, 26, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    replies = build_replies(library, now)
    renderer = Renderer()
    bare = bare_environment()

    print(f"== answer(): building the reply (median of {RUNS}, µs) ==")
    print(f"{'digest':<9} {'command':<22} {'en µs':>9} {'it µs':>9} {'ko µs':>9}")
    for name, command, _ in DIGESTS:
        handled = medians_ns(_answer_fns(library, now, command))
        cells = " ".join(_us(handled[lang]) for lang in LANGS)
        print(f"{name:<9} {command:<22} {cells}")

    print()
    print(f"== render: ours vs bare jinja2, same templates and data (median of {RUNS}, µs) ==")
    print("render = Renderer.render (items + packing); items = Renderer.items (template + split);")
    print("bare = same templates and data, no finalize/escaping, b/i identity, t() returns its key")
    print("(bare does not depend on the dialect: one figure per digest and language)")
    print(
        f"{'digest':<9} {'lang':<4} {'dialect':<8} {'render µs':>9} {'items µs':>9} "
        f"{'bare µs':>9} {'render/bare':>11} {'items/bare':>10} {'msgs':>4}"
    )
    render_ratios: list[float] = []
    items_ratios: list[float] = []
    for name, _, _ in DIGESTS:
        for lang in LANGS:
            reply = replies[name, lang]
            timed = medians_ns(_render_fns(renderer, bare, reply))
            bare_ns = timed["bare"]
            for dialect in DIALECT_NAMES:
                render_ns = timed[f"render {dialect}"]
                items_ns = timed[f"items {dialect}"]
                messages = len(renderer.render(reply, dialect))
                render_ratios.append(render_ns / bare_ns)
                items_ratios.append(items_ns / bare_ns)
                print(
                    f"{name:<9} {lang:<4} {dialect:<8} {_us(render_ns)} {_us(items_ns)} "
                    f"{_us(bare_ns)} {render_ns / bare_ns:11.2f} {items_ns / bare_ns:10.2f} "
                    f"{messages:4d}"
                )
    print(
        f"geometric mean over {len(render_ratios)} rows: render/bare "
        f"{statistics.geometric_mean(render_ratios):.2f}, items/bare "
        f"{statistics.geometric_mean(items_ratios):.2f}"
    )

    print()
    print(
        f"== first render on a fresh Renderer, template compile included "
        f"(median of {COMPILE_RUNS}; en, plain; µs) =="
    )
    print(f"{'digest':<9} {'first µs':>9} {'warm µs':>9} {'first/warm':>10}")
    for name, _, _ in DIGESTS:
        reply = replies[name, "en"]
        timed = medians_ns(_compile_fns(renderer, reply), COMPILE_RUNS)
        print(
            f"{name:<9} {_us(timed['first'])} {_us(timed['warm'])} "
            f"{timed['first'] / timed['warm']:10.1f}"
        )

    return []


if __name__ == "__main__":
    main()
