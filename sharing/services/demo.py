"""The demo pole: a cooperation pole of the Centre Isère, on two sites, whose members share
rooms, a refrigerated van, a shared accountant and their expertise.

Loading is idempotent: sites, organisations, users and resources are looked up by name,
slug or e-mail address before being created, and bookings by resource, title and start.
Bookings follow a weekly pattern laid on the current and the next two weeks, so the demo
always looks alive, and a later run lands exactly on the rows an earlier one wrote.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select

from sharing.core.extensions import db
from sharing.core.security import shared_password_hash
from sharing.engine.credits import charge
from sharing.models import Booking, CreditEntry, Organisation, Resource, Site, User
from sharing.services import accounts, catalogue, organisations

# The coordinator's yearly allocation of credits to each organisation, in hundredths.
GRANT_CENTS = 20_000
GRANT_MEMO = "Dotation annuelle du pôle"

# Published in the README on purpose: the demo pole is for trying the application out.
PASSWORD = "partage-demo"  # nosec B105
TIMEZONE = "Europe/Paris"
WEEKS = 3
T = TypeVar("T")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekly(days: str, *ranges: tuple[str, str]) -> dict[str, list[list[str]]]:
    """Opening hours: the same ranges on each of `days` ("mon-fri", "tue,thu")."""
    if "-" in days:
        first, last = days.split("-")
        chosen = WEEKDAYS[WEEKDAYS.index(first):WEEKDAYS.index(last) + 1]
    else:
        chosen = tuple(days.split(","))
    return {day: [list(r) for r in ranges] if day in chosen else [] for day in WEEKDAYS}


OFFICE_HOURS = weekly("mon-fri", ("08:00", "12:00"), ("13:30", "18:00"))

SITES = [
    ("Voiron", "Tiers-lieu Les Tanneries, 12 rue des Tanneries, 38500 Voiron"),
    ("Saint-Marcellin", "La Fabrique, 5 boulevard du Champ de Mars, 38160 Saint-Marcellin"),
]

ORGANISATIONS = [
    ("pole-centre-isere", "Pôle Solidaire du Centre Isère", "Association loi 1901"),
    ("ressourcerie-voironnais", "Ressourcerie du Pays Voironnais",
     "Association (atelier chantier d'insertion)"),
    ("douceurs-solidaires", "Les Douceurs Solidaires, pâtisserie d'insertion",
     "SAS entreprise d'insertion"),
    ("watt-solidaire", "Watt Solidaire, économies d'énergie", "Association loi 1901"),
    ("alpes-cooperatives", "Alpes Coopératives, coopérative d'activité et d'emploi", "SCOP SA"),
    ("la-fabrique", "La Fabrique, tiers-lieu de Saint-Marcellin", "SCIC SAS"),
]


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: str  # what the README and the summary say they are for
    memberships: dict[str, str]
    is_admin: bool = False


USERS = [
    DemoUser("claire.dumas@example.org", "Claire Dumas", "coordinator (platform admin)",
             {"pole-centre-isere": "manager"}, is_admin=True),
    DemoUser("nadia.girard@example.org", "Nadia Girard", "shared accountant",
             {"pole-centre-isere": "member"}),
    DemoUser("helene.roche@example.org", "Hélène Roche", "shared secretary",
             {"pole-centre-isere": "member"}),
    DemoUser("marc.perrin@example.org", "Marc Perrin", "manager, ressourcerie",
             {"ressourcerie-voironnais": "manager"}),
    DemoUser("sofia.benali@example.org", "Sofia Benali", "member, ressourcerie and La Fabrique",
             {"ressourcerie-voironnais": "member", "la-fabrique": "member"}),
    DemoUser("julien.faure@example.org", "Julien Faure", "manager, pâtisserie (owns the van)",
             {"douceurs-solidaires": "manager"}),
    DemoUser("lea.martin@example.org", "Léa Martin", "member, pâtisserie and Watt Solidaire",
             {"douceurs-solidaires": "member", "watt-solidaire": "member"}),
    DemoUser("thomas.blanc@example.org", "Thomas Blanc",
             "manager and energy expert, Watt Solidaire",
             {"watt-solidaire": "manager"}),
    DemoUser("amelie.rey@example.org", "Amélie Rey",
             "manager and legal expert, Alpes Coopératives",
             {"alpes-cooperatives": "manager"}),
    DemoUser("karim.haddad@example.org", "Karim Haddad", "member, Alpes Coopératives",
             {"alpes-cooperatives": "member"}),
    DemoUser("paul.garnier@example.org", "Paul Garnier", "manager, La Fabrique (SCIC)",
             {"la-fabrique": "manager"}),
]

# Each resource names its site, owner, person and listed organisations by name, slug and
# e-mail address; `load` resolves them to the ids the catalogue service takes.
NAMED_BY_DEMO = ("kind", "site", "owner", "person", "listed")
RESOURCES = [
    dict(kind="room", slug="salle-chartreuse", name="Salle de réunion Chartreuse",
         site="Voiron", owner="pole-centre-isere", tags=["réunion", "visio"],
         description="Salle lumineuse au rez-de-chaussée, écran et caméra pour la visio.",
         capacity=14, surface_m2=35, accessible=True, opening_hours=OFFICE_HOURS,
         slot_minutes=30, min_duration_minutes=30, max_duration_minutes=480),
    dict(kind="room", slug="cuisine-pedagogique", name="Cuisine pédagogique",
         site="Voiron", owner="douceurs-solidaires", tags=["cuisine", "formation"],
         description="Cuisine professionnelle pour ateliers et formations ; nettoyage compris "
                     "dans la demi-heure qui suit.",
         capacity=8, surface_m2=40, accessible=True,
         opening_hours=weekly("mon-fri", ("07:00", "19:00")), slot_minutes=30,
         buffer_minutes=30, min_duration_minutes=60,
         visibility="listed", listed=["ressourcerie-voironnais", "la-fabrique"]),
    dict(kind="room", slug="salle-vercors", name="Salle Vercors",
         site="Saint-Marcellin", owner="la-fabrique", tags=["réunion", "formation"],
         description="Grande salle modulable pour assemblées, formations et projections.",
         capacity=40, surface_m2=90, accessible=True, opening_hours=OFFICE_HOURS,
         slot_minutes=30, price=5, free_cancellation_minutes=1440),
    dict(kind="room", slug="coworking-fabrique", name="Postes de coworking",
         site="Saint-Marcellin", owner="la-fabrique", tags=["coworking"],
         description="Six postes de travail en open space, wifi et café.",
         quantity=6, capacity=6, surface_m2=45, accessible=True,
         opening_hours=weekly("mon-fri", ("08:00", "18:00")), slot_minutes=30),
    dict(kind="equipment", slug="camion-frigorifique", name="Camion frigorifique",
         site="Voiron", owner="douceurs-solidaires", tags=["livraison", "froid"],
         description="Utilitaire 12 m³ réfrigéré pour livraisons et marchés ; "
                     "demi-heure de retour et de nettoyage après chaque prêt.",
         pickup_place="Cour arrière de la pâtisserie, clés à l'accueil",
         licence_required="B", requires_approval=True, buffer_minutes=30,
         opening_hours=weekly("mon-sat", ("06:00", "21:00")), slot_minutes=30,
         min_duration_minutes=60, max_duration_minutes=720, max_advance_days=60),
    dict(kind="equipment", slug="velo-cargo", name="Vélo cargo électrique",
         site="Voiron", owner="ressourcerie-voironnais", tags=["livraison", "mobilité"],
         description="Biporteur à assistance électrique, 100 kg de charge utile.",
         pickup_place="Atelier de la ressourcerie", slot_minutes=30),
    dict(kind="equipment", slug="videoprojecteur", name="Vidéoprojecteur et écran",
         site="Saint-Marcellin", owner="la-fabrique", tags=["projection", "événement"],
         description="Vidéoprojecteur HD, écran sur pied et enceinte.",
         pickup_place="Accueil de La Fabrique", slot_minutes=30),
    dict(kind="equipment", slug="chaises-pliantes", name="Chaises pliantes",
         site="Voiron", owner="ressourcerie-voironnais", tags=["événement"],
         description="Quarante chaises pliantes pour braderies, réunions publiques et fêtes.",
         quantity=40, pickup_place="Réserve de la ressourcerie", slot_minutes=30),
    dict(kind="staff", slug="comptable-mutualisee", name="Comptable mutualisée",
         site="Voiron", owner="pole-centre-isere", person="nadia.girard@example.org",
         tags=["gestion"], weekly_hours=14,
         description="Saisie, paie, clôtures et bilans pour les structures membres.",
         opening_hours=weekly("tue,thu", ("09:00", "12:00"), ("14:00", "17:00")),
         slot_minutes=60, min_duration_minutes=60),
    dict(kind="staff", slug="secretariat-mutualise", name="Secrétariat mutualisé",
         site="Voiron", owner="pole-centre-isere", person="helene.roche@example.org",
         tags=["administratif"], weekly_hours=17,
         description="Courrier, relances, convocations et accueil téléphonique.",
         opening_hours=weekly("mon-fri", ("08:30", "12:30")), slot_minutes=30),
    dict(kind="expertise", slug="diagnostic-energie", name="Diagnostic énergie",
         site="Voiron", owner="watt-solidaire", person="thomas.blanc@example.org",
         tags=["énergie"], topic="Maîtrise de l'énergie et de l'eau", delivery_mode="on_site",
         session_minutes=120,
         description="Visite des locaux, relevés et plan d'économies d'eau et d'énergie.",
         opening_hours=weekly("mon-fri", ("09:00", "12:00"), ("14:00", "17:00")),
         slot_minutes=30, min_duration_minutes=120),
    dict(kind="expertise", slug="conseil-juridique", name="Conseil juridique",
         site="Saint-Marcellin", owner="alpes-cooperatives", person="amelie.rey@example.org",
         tags=["juridique"], topic="Statuts, gouvernance coopérative, contrats",
         delivery_mode="both", session_minutes=60,
         description="Une heure pour relire des statuts ou préparer un passage en SCOP/SCIC.",
         opening_hours=weekly("mon,thu", ("09:00", "12:00")), slot_minutes=30,
         visibility="listed",
         listed=["ressourcerie-voironnais", "douceurs-solidaires", "watt-solidaire"]),
    dict(kind="expertise", slug="montage-dossiers", name="Montage de dossiers de subvention",
         site="Voiron", owner="pole-centre-isere", person="claire.dumas@example.org",
         tags=["financement"], topic="Leader, Région, fondations", delivery_mode="remote",
         session_minutes=90,
         description="Aide à la rédaction des dossiers Leader et des appels à projets.",
         opening_hours=weekly("mon-fri", ("14:00", "17:30")), slot_minutes=30),
]


@dataclass(frozen=True)
class WeeklyBooking:
    weekday: int  # 0 is Monday
    start: str  # local time at the resource's site
    minutes: int
    resource: str
    organisation: str
    user: str
    title: str
    quantity: int = 1
    status: str = "confirmed"


BOOKINGS = [
    WeeklyBooking(0, "09:00", 90, "salle-chartreuse", "ressourcerie-voironnais",
                  "marc.perrin@example.org", "Comité de pilotage de la ressourcerie"),
    WeeklyBooking(1, "14:00", 120, "salle-chartreuse", "watt-solidaire",
                  "thomas.blanc@example.org", "Atelier éco-gestes"),
    WeeklyBooking(3, "10:00", 60, "salle-chartreuse", "pole-centre-isere",
                  "claire.dumas@example.org", "Point coordination du pôle"),
    WeeklyBooking(1, "08:30", 180, "cuisine-pedagogique", "douceurs-solidaires",
                  "julien.faure@example.org", "Formation hygiène HACCP"),
    WeeklyBooking(2, "14:00", 180, "cuisine-pedagogique", "ressourcerie-voironnais",
                  "sofia.benali@example.org", "Atelier cuisine anti-gaspi"),
    WeeklyBooking(0, "14:00", 180, "salle-vercors", "pole-centre-isere",
                  "claire.dumas@example.org", "Formation : répondre à un appel à projets Leader"),
    WeeklyBooking(4, "10:00", 120, "salle-vercors", "la-fabrique",
                  "paul.garnier@example.org", "Assemblée des sociétaires"),
    WeeklyBooking(1, "09:00", 180, "coworking-fabrique", "watt-solidaire",
                  "thomas.blanc@example.org", "Journée dossiers", quantity=2),
    WeeklyBooking(1, "10:00", 120, "coworking-fabrique", "alpes-cooperatives",
                  "karim.haddad@example.org", "Rendez-vous entrepreneurs", quantity=3),
    WeeklyBooking(2, "13:30", 240, "coworking-fabrique", "watt-solidaire",
                  "lea.martin@example.org", "Préparation des visites"),
    WeeklyBooking(2, "06:30", 180, "camion-frigorifique", "douceurs-solidaires",
                  "julien.faure@example.org", "Livraisons du marché de Voiron"),
    WeeklyBooking(4, "08:00", 240, "camion-frigorifique", "la-fabrique",
                  "paul.garnier@example.org", "Tournée des paniers", status="pending"),
    WeeklyBooking(5, "07:00", 300, "camion-frigorifique", "ressourcerie-voironnais",
                  "marc.perrin@example.org", "Collecte chez les commerçants", status="pending"),
    WeeklyBooking(1, "09:30", 120, "velo-cargo", "ressourcerie-voironnais",
                  "sofia.benali@example.org", "Collecte de petits objets"),
    WeeklyBooking(3, "14:00", 120, "velo-cargo", "douceurs-solidaires",
                  "lea.martin@example.org", "Livraison des goûters"),
    WeeklyBooking(0, "14:00", 180, "videoprojecteur", "pole-centre-isere",
                  "claire.dumas@example.org", "Formation : répondre à un appel à projets Leader"),
    WeeklyBooking(4, "10:00", 120, "videoprojecteur", "la-fabrique",
                  "paul.garnier@example.org", "Assemblée des sociétaires"),
    WeeklyBooking(5, "08:00", 600, "chaises-pliantes", "ressourcerie-voironnais",
                  "marc.perrin@example.org", "Grande braderie", quantity=25),
    WeeklyBooking(5, "14:00", 240, "chaises-pliantes", "douceurs-solidaires",
                  "julien.faure@example.org", "Goûter solidaire", quantity=10),
    WeeklyBooking(4, "17:00", 240, "chaises-pliantes", "watt-solidaire",
                  "thomas.blanc@example.org", "Ciné-débat sobriété", quantity=12),
    WeeklyBooking(1, "09:00", 120, "comptable-mutualisee", "ressourcerie-voironnais",
                  "marc.perrin@example.org", "Clôture mensuelle"),
    WeeklyBooking(3, "09:00", 60, "comptable-mutualisee", "douceurs-solidaires",
                  "julien.faure@example.org", "Préparation de la paie"),
    WeeklyBooking(3, "14:00", 120, "comptable-mutualisee", "alpes-cooperatives",
                  "karim.haddad@example.org", "Préparation du bilan"),
    WeeklyBooking(0, "09:00", 180, "secretariat-mutualise", "douceurs-solidaires",
                  "julien.faure@example.org", "Relances factures"),
    WeeklyBooking(2, "08:30", 120, "secretariat-mutualise", "la-fabrique",
                  "paul.garnier@example.org", "Convocations à l'assemblée"),
    WeeklyBooking(2, "09:00", 120, "diagnostic-energie", "douceurs-solidaires",
                  "julien.faure@example.org", "Diagnostic énergie du fournil"),
    WeeklyBooking(4, "14:00", 120, "diagnostic-energie", "ressourcerie-voironnais",
                  "marc.perrin@example.org", "Diagnostic énergie de l'atelier"),
    WeeklyBooking(3, "10:00", 60, "conseil-juridique", "watt-solidaire",
                  "thomas.blanc@example.org", "Statuts : passage en SCIC"),
    WeeklyBooking(0, "14:00", 90, "montage-dossiers", "ressourcerie-voironnais",
                  "marc.perrin@example.org", "Dossier Leader 2027"),
    WeeklyBooking(3, "15:00", 90, "montage-dossiers", "douceurs-solidaires",
                  "julien.faure@example.org", "Appel à projets de la Région"),
]


def find_or_create(find: Callable[[], T | None], create: Callable[[], T], label: str,
                   created: Counter) -> T:
    found = find()
    if found is not None:
        return found
    created[label] += 1
    return create()


def load(today: date | None = None, now: datetime | None = None) -> str:
    """Add what is missing of the demo pole to the session (the caller commits);
    returns a summary with the demo logins. Its weeks start on the Monday of `today`;
    a request that would already have begun at `now` is loaded expired, never pending."""
    now = now or datetime.now(UTC)
    created: Counter = Counter()
    sites = {name: load_site(name, address, created) for name, address in SITES}
    orgs = {slug: load_organisation(slug, name, legal_form, created)
            for slug, name, legal_form in ORGANISATIONS}
    db.session.flush()
    users = {person.email: load_user(person, orgs, created) for person in USERS}
    db.session.flush()
    resources = {fields["slug"]: load_resource(fields, sites, orgs, users, created)
                 for fields in RESOURCES}
    db.session.flush()
    for organisation in orgs.values():
        load_grant(organisation, users[USERS[0].email], created)
    monday = this_monday(today)
    bookings = [load_booking(pattern, monday + timedelta(weeks=week), resources, orgs, users,
                             created, now) for week in range(WEEKS) for pattern in BOOKINGS]
    # settle() writes only what is missing: a second run charges nothing again
    charge([booking for booking in bookings if booking.resource.price_cents])
    db.session.flush()
    return summary(created)


def load_site(name: str, address: str, created: Counter) -> Site:
    return find_or_create(lambda: organisations.find_site_by_name(name),
                          lambda: organisations.create_site(name, TIMEZONE, address),
                          "sites", created)


def load_organisation(slug: str, name: str, legal_form: str, created: Counter) -> Organisation:
    return find_or_create(lambda: organisations.find_organisation_by_slug(slug),
                          lambda: organisations.create_organisation(slug, name, legal_form),
                          "organisations", created)


def load_user(person: DemoUser, orgs: dict[str, Organisation], created: Counter) -> User:
    user = find_or_create(lambda: accounts.find_user_by_email(person.email),
                          lambda: create_demo_user(person), "users", created)
    for slug, role in person.memberships.items():
        organisations.add_member(user, orgs[slug], role)
    return user


def create_demo_user(person: DemoUser) -> User:
    user = accounts.create_user(person.email, person.name, None, is_admin=person.is_admin)
    # Every demo login shares the published password, so one hash serves them all:
    # hashing it for each person was three quarters of the demo's loading time.
    user.password_hash = shared_password_hash(PASSWORD)
    return user


def load_resource(fields: dict, sites: dict[str, Site], orgs: dict[str, Organisation],
                  users: dict[str, User], created: Counter) -> Resource:
    def create() -> Resource:
        data = {name: value for name, value in fields.items() if name not in NAMED_BY_DEMO}
        data["site_id"] = sites[fields["site"]].id
        if "person" in fields:
            data["person_id"] = users[fields["person"]].id
        if "listed" in fields:
            data["visible_to"] = [orgs[slug].id for slug in fields["listed"]]
        return catalogue.create_resource(orgs[fields["owner"]], fields["kind"], data)

    return find_or_create(lambda: catalogue.find_resource_by_slug(fields["slug"]), create,
                          "resources", created)


def load_grant(organisation: Organisation, coordinator: User, created: Counter) -> CreditEntry:
    def create() -> CreditEntry:
        entry = CreditEntry(organisation=organisation, amount_cents=GRANT_CENTS, reason="grant",
                            memo=GRANT_MEMO, author=coordinator)
        db.session.add(entry)
        return entry

    return find_or_create(
        lambda: db.session.scalar(select(CreditEntry).where(
            CreditEntry.organisation_id == organisation.id, CreditEntry.memo == GRANT_MEMO)),
        create, "grants", created)


def this_monday(today: date | None) -> date:
    today = today or datetime.now(ZoneInfo(TIMEZONE)).date()
    return today - timedelta(days=today.weekday())


def load_booking(pattern: WeeklyBooking, monday: date, resources: dict[str, Resource],
                 orgs: dict[str, Organisation], users: dict[str, User],
                 created: Counter, now: datetime) -> Booking:
    resource = resources[pattern.resource]
    day = monday + timedelta(days=pattern.weekday)
    local_start = datetime.combine(day, time.fromisoformat(pattern.start),
                                   ZoneInfo(resource.site.timezone))
    start = local_start.astimezone(UTC)
    end = start + timedelta(minutes=pattern.minutes)

    def create() -> Booking:
        booking = Booking(resource=resource, organisation=orgs[pattern.organisation],
                          user=users[pattern.user], starts_at=start, ends_at=end,
                          blocks_until=end + timedelta(minutes=resource.buffer_minutes),
                          quantity=pattern.quantity, title=pattern.title,
                          status=status_at(pattern, start, now))
        db.session.add(booking)
        return booking

    return find_or_create(
        lambda: db.session.scalar(select(Booking).where(
            Booking.resource_id == resource.id, Booking.title == pattern.title,
            Booking.starts_at == start)),
        create, "bookings", created)


def status_at(pattern: WeeklyBooking, start: datetime, now: datetime) -> str:
    """A request nobody decided before it began has expired (as the worker would say)."""
    return "expired" if pattern.status == "pending" and start <= now else pattern.status


def summary(created: Counter) -> str:
    counts = ", ".join(f"{created[label]} {label}"
                       for label in ("sites", "organisations", "users", "resources", "bookings"))
    logins = "\n".join(f"  {person.email:<28} {person.role}" for person in USERS)
    return (f"Demo pole loaded; added {counts}.\n"
            f"Demo logins, all with the password {PASSWORD!r}:\n{logins}")
