"""One dialogue, run through the core, the console, Telegram and Slack alike.

Each step is text typed or a button pressed, and what the plain-text answer must (and must not)
say. The adapters' tests run the same steps against the fake platform APIs and check that what
they sent is exactly the core's answer rendered in their dialect.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from briefings.actions import Action, encode

# During the August visit: Tuesday 27 August 2024, 09:00 in Gwangju.
NOW = datetime(2024, 8, 27, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
AUGUST = "turin-gwangju-2024"
APRIL = "kang-turin-2024-04"
FORGED = "a1.d.ffffffff.20240827"


@dataclass(frozen=True, slots=True)
class Step:
    text: str | None = None
    # An encoded action, as a platform hands back a button's payload.
    press: str | None = None
    says: tuple[str, ...] = ()
    never: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text or f"press {self.press}"


def press(action: Action, *says: str) -> Step:
    return Step(press=encode(action), says=says)


DIALOGUE: tuple[Step, ...] = (
    Step(
        "/visits",
        says=(
            "1. The Mayor of Turin in Gwangju",
            "under way",
            "2. The Mayor of Gwangju in Turin",
            "April 2024, days not stated",
        ),
    ),
    Step("/visit 2", says=("The Mayor of Gwangju in Turin", "April 2024, days not stated")),
    Step("/itinerary tuesday", says=("do not state its days",), never=("27 August",)),
    Step("/visit aprile", says=("The Mayor of Gwangju in Turin",)),
    Step("/visit gwangju", says=("The Mayor of Turin in Gwangju",)),
    Step("/today", says=("Tuesday 27 August 2024", "Day 2 of 3")),
    press(Action("day", AUGUST, date(2024, 8, 26)), "Monday 26 August 2024", "Day 1 of 3"),
    press(Action("briefing", APRIL), "The Mayor of Gwangju in Turin"),
    Step(press=FORGED, says=("This button is out of date",)),
    Step("/partnership", says=("Turin–Gwangju", "Timeline", "Follow-ups")),
    Step("/lang it", says=("Da ora le risposte sono in italiano",)),
    Step("/visits", says=("Visite della partnership", "in corso")),
    Step("/bogus", says=("Il comando «/bogus» non esiste",)),
)
