"""The planning's rows, written as HTML here rather than by the template: a thousand
resources over a week are 7,000 cells, and Jinja's cost per cell (its loops, tests,
attribute look-ups, macro calls and escaping) was most of the page's time.

What every row repeats (labels, link prefixes) is escaped once per page; what a resource
brings (its name, a booking's title or organisation) is escaped as it is written. The
HTML is the template's: a "+" link is named by the page's "Book" and its row and column
headers, and `span_text` says what each booking, closure or busy time is.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup, escape

from sharing.blueprints.timegrid import span_text
from sharing.services.timegrid import Axis, DayTimeline


@dataclass(slots=True)
class RowWriter:
    """One page's rows: week view (a cell per day) or, with an axis, day view."""

    days: list[date]
    pages: dict[str, str]  # kind → its resource pages' address, without the slug
    book: str  # the booking form's address, up to the resource's slug
    booking_prefix: str  # a booking's page, without its id
    labels: dict[str, Markup]
    several_sites: bool  # else the site is not repeated on every row
    axis: Axis | None = None
    columns: list[tuple[int, str]] = field(init=False)  # each day's column and ISO date

    def __post_init__(self):
        self.columns = [(column, day.isoformat()) for column, day in enumerate(self.days, 1)]

    def rows(self, resources, timelines: Mapping[tuple[int, date], DayTimeline]) -> list[Markup]:
        cells = self.week_cells if self.axis is None else self.day_cell
        # every name, title and organisation is escaped where it is written (see above)
        return [Markup(f"<tr>{self.heading(r)}"  # nosec B704
                       f"{cells(r, [timelines[r.id, day] for day in self.days])}</tr>")
                for r in resources]

    def heading(self, resource) -> str:
        site = (f'<br><span class="muted">{escape(resource.site)}</span>'
                if self.several_sites else "")
        return (f'<th scope="row" id="r{resource.id}">'
                f'<a href="{escape(self.pages[resource.kind] + resource.slug)}">'
                f"{escape(resource.name)}</a>{site}</th>")

    def book_links(self, resource, timelines: list[DayTimeline]) -> list[str]:
        """Each day's "+" (the booking form, that day), or "" where one may not book."""
        prefix = escape(f"{self.book}{resource.slug}&date=")
        row, active = resource.id, resource.active
        return [f'<a href="{prefix}{iso}" aria-labelledby="b r{row} d{column}">+</a>'
                if active and t.is_bookable else ""
                for (column, iso), t in zip(self.columns, timelines, strict=True)]

    def week_cells(self, resource, timelines: list[DayTimeline]) -> str:
        return "".join([self.week_cell(t, plus) for t, plus in
                        zip(timelines, self.book_links(resource, timelines), strict=True)])

    def week_cell(self, t: DayTimeline, plus: str) -> str:
        """What holds the resource that day, then "+" or, on a closed day, "Closed" (and
        not its closures again)."""
        closed = not plus and t.is_closed
        spans = self.span_list(t, closed) if t.spans else ""
        if closed:
            return f'<td class="closed">{spans}{self.labels["closure"]}</td>'
        return f"<td>{spans}{plus}</td>"

    def span_list(self, t: DayTimeline, closed: bool) -> str:
        items = "".join([item(s.css, self.said(s)) for s in t.spans
                         if not (closed and s.kind == "closure")])
        return f"<ul>{items}</ul>" if items else ""

    def day_cell(self, resource, timelines: list[DayTimeline]) -> str:
        """The day on the page's time axis: its frame, its opening hours, what holds it."""
        axis, (t,), (plus,) = self.axis, timelines, self.book_links(resource, timelines)
        frame = f'<li class="tg-frame at-1 len-{axis.steps}" aria-hidden="true"></li>'
        opening = "".join(f'<li class="tg-open {axis.place(a, b)}" aria-hidden="true"></li>'
                          for a, b in t.opening if axis.shows(a, b))
        note = (f'<li class="tg-note at-1 len-{axis.steps}">{self.labels["closure"]}</li>'
                if t.is_closed else "")
        spans = "".join(item(f"{s.css} {axis.place(s.start, s.end)}".lstrip(), self.said(s))
                        for s in t.spans)
        return f'<td><ul class="tg-cols">{frame}{opening}{note}{spans}</ul>{plus}</td>'

    def said(self, span) -> str:
        return span_text(span, self.labels, self.booking_prefix)


def item(classes: str, content: str) -> str:
    return f'<li class="{classes}">{content}</li>' if classes else f"<li>{content}</li>"
