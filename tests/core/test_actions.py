"""Typed actions: compact, stable, and never trusted on the way in."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefings.actions import PAYLOAD_LIMIT, VIEWS, Action, ActionCodec, encode, visit_token

VISITS = ("turin-gwangju-2024", "kang-turin-2024-04", "x" * 200)
CODEC = ActionCodec(VISITS)


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("visit", [*VISITS, None])
def test_every_action_round_trips_within_telegrams_64_bytes(view, visit):
    day = date(2024, 8, 27) if view == "day" else None
    action = Action(view, visit, day)
    payload = encode(action)
    assert len(payload.encode()) <= PAYLOAD_LIMIT
    assert CODEC.decode(payload) == action


def test_the_token_of_a_visit_is_stable_across_processes():
    # A button sent before a restart must still open the same visit: no per-process salt.
    assert visit_token("turin-gwangju-2024") == "975ccc78"


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "itinerary 2024-08-27",  # the old command-string buttons
        "a1.d.975ccc78.2024082",  # truncated day
        "a1.d.975ccc78.20241341",  # no such date
        "a1.d.975ccc78.",  # a day view without a day
        "a1.b.975ccc78.20240827",  # a day on a view that takes none
        "a1.d.00000000.20240827",  # a visit nobody knows (removed from the seeds)
        "a1.Z.975ccc78.",  # no such view
        "a0.b.975ccc78.",  # another version of the codec
        "a1.b.975ccc78." + "9" * 100,
    ],
)
def test_forged_or_stale_payloads_decode_to_nothing(payload):
    assert CODEC.decode(payload) is None


@given(st.text(max_size=200))
def test_no_payload_raises(payload):
    decoded = CODEC.decode(payload)
    assert decoded is None or decoded.visit in (*VISITS, None)
