"""Real Chromium against a real server with the demo data: the coordinator reads, filters,
exports and prints the impact report; a member reads her organisation's credit account
and downloads its statement. On phone and desktop sizes, each page has no serious
accessibility violation (axe-core), no sideways scrolling and nothing refused by the CSP;
each chart has a text alternative and the table of its figures beside it.

The demo prices Salle Vercors (La Fabrique) at 5 credits an hour and grants each
organisation its yearly allocation, so the pole's coordination pays La Fabrique 15
credits for each of its weekly three-hour trainings there.
"""

import csv
from pathlib import Path

import pytest

from browser.browser_helpers import DESKTOP, PHONE, serious_accessibility_violations, sign_in
from sharing.services.demo import GRANT_MEMO

SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])


def scrolls_sideways(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth")


def assert_readable(page) -> None:
    """The checks every page of this file passes, at whatever size it is shown."""
    assert serious_accessibility_violations(page) == []
    assert not scrolls_sideways(page)
    assert page.csp_violations == []


def assert_charts_are_described(page) -> None:
    """Each chart is an image named by its title, described by its figures in words, and
    followed in its section by a table (the same figures, for every reader)."""
    charts = page.locator("figure.chart svg[role=img]")
    assert charts.count() == 3
    for n in range(charts.count()):
        chart = charts.nth(n)
        assert chart.locator("title").text_content().strip()
        description = page.locator(f"#{chart.get_attribute('aria-describedby')}")
        assert description.count() == 1
        bars = chart.locator("rect").count()
        assert len(description.text_content().split("; ")) == bars
    assert page.locator("section.chart-and-table:has(figure.chart) table").count() >= 2


def read_csv(download) -> list[list[str]]:
    with Path(download.path()).open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


@SIZES
def test_coordinator_filters_exports_and_prints_the_report(page, size):
    page.set_viewport_size(size)
    sign_in(page, "claire.dumas@example.org")
    page.get_by_role("navigation").get_by_role("link", name="Impact").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Rapport d'impact"
    assert page.get_by_role("cell", name="Salle de réunion Chartreuse").count() == 1
    assert_charts_are_described(page)
    assert_readable(page)

    page.get_by_label("Site").select_option(label="Saint-Marcellin")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_load_state()
    assert "site=" in page.url
    assert page.get_by_role("cell", name="Salle Vercors").count() == 1
    assert page.get_by_role("cell", name="Salle de réunion Chartreuse").count() == 0
    credits = page.locator("dl.headline dd").nth(4).inner_text()
    assert credits == "45.0"  # three weekly trainings of 3 h at 5 credits an hour
    assert_charts_are_described(page)
    assert_readable(page)

    with page.expect_download() as download:
        page.locator("a[href*='/reports/impact.csv']").click()
    assert download.value.suggested_filename.startswith("impact-")
    rows = read_csv(download.value)
    assert rows[0] == ["section", "start", "end"] and rows[1][0] == "period"
    assert ["section", "hours", "cross_org_hours", "cross_org_share", "occupancy",
            "organisations_served", "credits_circulated", "cancellations",
            "late_cancellations"] in rows
    assert any(row[0] == "by_resource" and "Salle Vercors" in row for row in rows)

    page.locator("a[href*='/reports/summary']").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text()
    assert "Saint-Marcellin" not in page.get_by_role("heading", level=1).inner_text()
    assert_charts_are_described(page)
    assert_readable(page)


@SIZES
def test_member_reads_her_organisations_account_and_statement(page, size):
    page.set_viewport_size(size)
    sign_in(page, "nadia.girard@example.org", then="/organisations/pole-centre-isere/")
    page.get_by_role("link", name="Crédits : solde").click()
    page.wait_for_load_state()
    assert "Pôle Solidaire du Centre Isère" in page.get_by_role("heading", level=1).inner_text()
    statement = page.locator("table.statement")
    assert statement.get_by_text(GRANT_MEMO).count() == 1
    assert statement.locator("a[href*='/bookings/']").count() >= 1  # a charged training
    assert page.locator("form[action$='/grant']").count() == 0  # the coordinator's
    assert_readable(page)

    with page.expect_download() as download:
        page.locator("a[href*='statement.csv']").click()
    rows = read_csv(download.value)
    assert rows[0] == ["date", "entry", "booking_id", "memo", "amount", "balance"]
    assert rows[1][1] == "opening" and rows[-1][1] == "closing"
    assert any(row[1] == "grant" and row[3] == GRANT_MEMO for row in rows)

    page.get_by_role("link", name="Mois précédent").click()
    page.wait_for_load_state()
    assert_readable(page)


@SIZES
def test_coordinator_reads_the_credit_pages(page, size):
    page.set_viewport_size(size)
    sign_in(page, "claire.dumas@example.org", then="/credits/")
    assert page.get_by_role("link", name="La Fabrique, tiers-lieu de Saint-Marcellin").count() == 1
    assert_readable(page)
    page.get_by_role("link", name="La Fabrique, tiers-lieu de Saint-Marcellin").click()
    page.wait_for_load_state()
    assert page.locator("form[action$='/grant']").count() == 1
    assert_readable(page)
