"""What the demo organisation says and knows: staff, customers' names, the support
scenarios its conversations are made of, canned responses and help-center articles.

Plain data only; `helpline.demo.seed` turns it into rows. Texts use `{first}` (the
customer's first name), `{agent}` (the agent's first name) and `{order}` (an order
number) and are filled in with `str.format`.
"""

# Customers write in their own languages, Greek included.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import dataclass, field

from helpline.domain.enums import AgentStatus, Channel, Priority, Role

COMPANY = "Acme Outfitters"
STAFF_DOMAIN = "acme.example.com"

# Fixed, documented credentials of the demo organisation (docs/demo.md). They
# exist only in demo data; no other code path knows or accepts them.
DEMO_ADMIN_PASSWORD = "demo-admin-pass"  # noqa: S105
DEMO_SUPERVISOR_PASSWORD = "demo-supervisor-pass"  # noqa: S105
DEMO_AGENT_PASSWORD = "demo-agent-pass"  # noqa: S105


@dataclass(frozen=True, slots=True)
class TeamSpec:
    name: str
    tier: int
    categories: tuple[str, ...]
    description: str


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("Billing", 1, ("billing",), "Payments, invoices, refunds and subscriptions."),
    TeamSpec("Technical", 1, ("technical", "account"), "Sign-in problems, bugs and how-to."),
    TeamSpec("Orders", 1, ("orders",), "Order status, delivery, returns and address changes."),
    TeamSpec("Sales", 1, ("sales",), "Pricing, plans, trials and upgrades."),
    TeamSpec(
        "Senior support",
        2,
        ("billing", "technical", "account", "orders"),
        "Tier 2: escalations, integrations and anything tier 1 could not solve.",
    ),
    TeamSpec("Security", 2, ("account",), "Fraud reports, account takeovers and data requests."),
)


@dataclass(frozen=True, slots=True)
class StaffSpec:
    name: str
    email_local: str
    role: Role
    teams: tuple[str, ...]
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    tier: int
    max_chats: int
    refund_limit_cents: int
    status: AgentStatus
    password: str

    @property
    def email(self) -> str:
        return f"{self.email_local}@{STAFF_DOMAIN}"


AGENT = Role.AGENT
STAFF: tuple[StaffSpec, ...] = (
    StaffSpec(
        "Anna Kowalska", "anna.kowalska", AGENT, ("Billing",), ("en", "pl"),
        ("billing",), 1, 3, 20_000, AgentStatus.ONLINE, DEMO_AGENT_PASSWORD,
    ),
    StaffSpec(
        "Marco Rossi", "marco.rossi", AGENT, ("Orders",), ("en", "it", "de"),
        ("orders",), 1, 4, 10_000, AgentStatus.ONLINE, DEMO_AGENT_PASSWORD,
    ),
    StaffSpec(
        "Eleni Papadopoulou", "eleni.papadopoulou", AGENT, ("Technical", "Billing"),
        ("en", "el"), ("technical", "account", "billing"), 1, 3, 5_000,
        AgentStatus.AWAY, DEMO_AGENT_PASSWORD,
    ),
    StaffSpec(
        "Jonas Weber", "jonas.weber", AGENT, ("Technical",), ("en", "de"),
        ("technical", "account"), 1, 3, 0, AgentStatus.ONLINE, DEMO_AGENT_PASSWORD,
    ),
    StaffSpec(
        "Priya Raman", "priya.raman", AGENT, ("Sales",), ("en",),
        ("sales",), 1, 4, 0, AgentStatus.ON_BREAK, DEMO_AGENT_PASSWORD,
    ),
    StaffSpec(
        "Tomasz Nowak", "tomasz.nowak", AGENT, ("Senior support", "Technical"),
        ("en", "pl"), ("technical", "account", "billing"), 2, 2, 100_000,
        AgentStatus.ONLINE, DEMO_AGENT_PASSWORD,
    ),
    StaffSpec(
        "Sofia Bianchi", "sofia.bianchi", AGENT, ("Billing", "Orders"), ("en", "it"),
        ("billing", "orders"), 1, 3, 20_000, AgentStatus.OFFLINE, DEMO_AGENT_PASSWORD,
    ),
    StaffSpec(
        "Daniel Okafor", "daniel.okafor", AGENT, ("Security", "Senior support"), ("en", "fr"),
        ("account", "technical"), 2, 2, 50_000, AgentStatus.ONLINE, DEMO_AGENT_PASSWORD,
    ),
    StaffSpec(
        "Helena Fischer", "helena.fischer", Role.SUPERVISOR,
        ("Billing", "Technical", "Orders", "Sales", "Senior support", "Security"),
        ("en", "de"), (), 2, 4, 200_000, AgentStatus.ONLINE, DEMO_SUPERVISOR_PASSWORD,
    ),
    StaffSpec(
        "Alex Morgan", "admin", Role.ADMIN, (), ("en",), (), 2, 3, 0,
        AgentStatus.OFFLINE, DEMO_ADMIN_PASSWORD,
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class InboxSpec:
    name: str
    channel: Channel
    email_address: str | None = None
    default_team: str | None = None


INBOXES: tuple[InboxSpec, ...] = (
    InboxSpec("Website chat", Channel.CHAT),
    InboxSpec("support@ email", Channel.EMAIL, email_address=f"support@{STAFF_DOMAIN}"),
    InboxSpec("Phone line", Channel.PHONE),
    InboxSpec("API", Channel.API, default_team="Senior support"),
)

# Customers' names by language: an international customer base.
CUSTOMER_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("Emma", "Thompson"), ("Oliver", "Hughes"), ("Charlotte", "Reid"), ("James", "Carter"),
        ("Amelia", "Walsh"), ("Noah", "Bennett"), ("Grace", "O'Connor"), ("Liam", "Foster"),
        ("Chloe", "Patel"), ("Ethan", "Brooks"), ("Isla", "Murray"), ("Harper", "Nguyen"),
        ("Mason", "Greene"), ("Zoe", "Campbell"), ("Ruby", "Khan"), ("Samuel", "Ortiz"),
        ("Hannah", "Doyle"),
    ),
    "pl": (
        ("Katarzyna", "Wiśniewska"), ("Piotr", "Zieliński"), ("Magdalena", "Lewandowska"),
        ("Michał", "Wójcik"), ("Agnieszka", "Kamińska"),
    ),
    "it": (
        ("Giulia", "Romano"), ("Luca", "Ferrari"), ("Francesca", "Esposito"),
        ("Alessandro", "Ricci"), ("Chiara", "Marino"),
    ),
    "de": (
        ("Lukas", "Schneider"), ("Lena", "Hoffmann"), ("Felix", "Wagner"),
        ("Marie", "Becker"), ("Jonas", "Schulz"),
    ),
    "el": (
        ("Dimitris", "Georgiou"), ("Maria", "Nikolaou"), ("Nikos", "Christodoulou"),
        ("Sofia", "Alexiou"),
    ),
    "es": (("Lucía", "García"), ("Javier", "Moreno"), ("Carmen", "Ruiz")),
    "fr": (("Camille", "Lefèvre"), ("Hugo", "Moreau"), ("Inès", "Laurent")),
    "nl": (("Sanne", "de Vries"), ("Daan", "Jansen")),
}  # fmt: skip

CUSTOMER_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
COUNTRIES = {
    "en": ("GB", "IE", "US"),
    "pl": ("PL",),
    "it": ("IT",),
    "de": ("DE", "AT"),
    "el": ("GR", "CY"),
    "es": ("ES",),
    "fr": ("FR", "BE"),
    "nl": ("NL",),
}
COMPANIES = (
    "Brightwave Studio",
    "Northfield Dental",
    "Kestrel Logistics",
    "Piccolo Caffè",
    "Hafenblick GmbH",
    "Olympus Tours",
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One kind of support request and how its conversation goes, step by step."""

    key: str
    subject: str
    category: str
    priority: Priority
    team: str | None
    tags: tuple[str, ...]
    channels: tuple[Channel, ...]
    opening: str
    reply: str
    """The agent's first answer: a question or a first step."""
    follow_up: str
    """The customer's answer to it."""
    resolution: str
    thanks: str
    note: str
    """An internal note a colleague would leave."""
    hold_reason: str
    """The internal note when the conversation waits on someone else."""
    language: str = "en"
    extra_opening: tuple[str, ...] = field(default=())


CHAT, EMAIL, PHONE, API = Channel.CHAT, Channel.EMAIL, Channel.PHONE, Channel.API

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "login-after-reset",
        "Can't sign in after resetting my password",
        "account",
        Priority.HIGH,
        "Technical",
        ("login", "account"),
        (CHAT, EMAIL),
        "Hi, I reset my password this morning but the app still says "
        '"invalid credentials". I\'ve tried three times now.',
        "Hi {first}, sorry about that! Could you tell me whether you're signing in on the "
        "website or in the mobile app? The app sometimes keeps the old password saved.",
        "It's the mobile app, iPhone. The website works fine actually.",
        "Thanks {first}, that narrows it down. Please sign out in the app (Settings → "
        "Account → Sign out), then sign in again with the new password. The app had "
        "cached your old one. Let me know if it still refuses.",
        "That did it, I'm in. Thanks a lot!",
        "Known issue with app 4.2 caching credentials; fix ships in 4.3.",
        "Asked engineering whether this account shows up in the sign-in error logs.",
        extra_opening=("Email is the one on my order confirmations, by the way.",),
    ),
    Scenario(
        "2fa-lost-phone",
        "Lost my phone, locked out by two-factor authentication",
        "account",
        Priority.URGENT,
        "Technical",
        ("login", "2fa", "account"),
        (EMAIL, PHONE),
        "My phone was stolen yesterday and now I can't get the two-factor codes. I have "
        "an order going out tomorrow that I need to change. Please help.",
        "Hi {first}, I'm sorry to hear about your phone. To protect your account I need to "
        "verify it's you: please reply with the postcode of your last delivery and the last "
        "four digits of the card you paid with.",
        "Postcode is on my last order, card ends in 4417.",
        "Thank you {first}, that matches. I've removed two-factor authentication from your "
        "account; you can sign in with your password now. Please set it up again on your "
        "new phone under Settings → Security.",
        "Signed in and set up again on the new phone. Brilliant service.",
        "Identity verified with postcode + card digits as per the 2FA reset checklist.",
        "Waiting for Security to confirm the reset request isn't part of the takeover wave.",
    ),
    Scenario(
        "payment-failed",
        "Card payment failed at checkout",
        "billing",
        Priority.URGENT,
        "Billing",
        ("payment", "checkout"),
        (CHAT, EMAIL, PHONE),
        "My card keeps getting declined at checkout, but my bank says there is no block "
        "on their side. I need this order before the weekend!",
        "Hi {first}, I can see three declined attempts on our side with the code "
        '"authentication required". That usually means the 3-D Secure check in your '
        "banking app timed out. Could you try once more and keep the banking app open?",
        "Tried again, same error. No notification from my banking app at all.",
        "I've placed the order {order} for you with a payment link instead; you'll get it by "
        "email in a minute. It skips the checkout page and the 3-D Secure prompt shows up "
        "in the browser. The weekend delivery slot is reserved for you.",
        "Paid through the link, all good. Thank you!",
        "Card issuer returns 'authentication_required' without a challenge: PSP ticket open.",
        "Waiting on the payment provider to explain the missing 3-D Secure challenge.",
    ),
    Scenario(
        "charged-twice",
        "Charged twice for order {order}",
        "billing",
        Priority.HIGH,
        "Billing",
        ("payment", "refund", "double-charge"),
        (EMAIL, CHAT),
        "Hello, I was charged twice for order {order}: two identical payments on my "
        "statement. Please refund one of them.",
        "Hi {first}, I'm sorry about that. I can see the second payment came from a page "
        "reload during checkout. Could you confirm the amounts on your statement are "
        "both €89.90?",
        "Yes, two times €89.90 on the same day.",
        "I've refunded the duplicate payment of €89.90. Your bank will show it within 3-5 "
        "working days. Sorry again for the trouble, {first}.",
        "Got the refund notice, thanks for sorting it so quickly.",
        "Duplicate capture confirmed in the payment dashboard; refund within my limit.",
        "Refund above agent limit for this card type: waiting for supervisor approval.",
    ),
    Scenario(
        "refund-return",
        "Refund for my returned jacket hasn't arrived",
        "billing",
        Priority.NORMAL,
        "Billing",
        ("refund", "returns"),
        (EMAIL, CHAT),
        "I sent back a jacket (order {order}) two weeks ago and still have no refund. The "
        "tracking says it was delivered to you.",
        "Hi {first}, thanks for your patience. The return reached our warehouse on Monday "
        "and is waiting for its quality check. I've asked the team to prioritise it.",
        "OK, but I was told refunds take 5 days. It's been 14.",
        "You're right, it took too long. The return has passed its check and I've issued "
        "the refund to your original payment method today, plus a €10 voucher for the wait.",
        "Thanks, that's fair. Voucher appreciated!",
        "Warehouse backlog on returns this week; check RMA queue before promising dates.",
        "Waiting for the warehouse to finish the quality check on the returned item.",
    ),
    Scenario(
        "invoice-vat",
        "Invoice needs our VAT number",
        "billing",
        Priority.LOW,
        "Billing",
        ("invoice", "business"),
        (EMAIL,),
        "Could you please reissue the invoice for order {order} with our company VAT "
        "number? Our accountant can't book it otherwise.",
        "Hi {first}, of course. Please send me the VAT number and the exact company name "
        "as it should appear on the invoice.",
        "Company name is on our account; VAT number DE 123 456 789.",
        "Here you go: the corrected invoice for {order} is attached to this email and "
        "is also in your account under Orders → Invoices.",
        "Perfect, thank you.",
        "Business customer: offer to save the VAT number in their account settings.",
        "Waiting for accounting to validate the VAT number in VIES.",
    ),
    Scenario(
        "delivery-delay",
        "Order {order} still not delivered",
        "orders",
        Priority.HIGH,
        "Orders",
        ("delivery", "courier"),
        (CHAT, EMAIL, PHONE),
        "My order {order} was supposed to arrive on Tuesday. The tracking hasn't moved for "
        "four days. It's a birthday present!",
        "Hi {first}, I'm sorry about the delay. The courier shows the parcel stuck at their "
        "regional depot. I've opened an investigation with them; they answer within 24 hours.",
        "Any news? The birthday is on Saturday.",
        "The courier found the parcel and it's out for delivery today. If it doesn't show "
        "up by 6 pm, tell me and I'll send a replacement by express at no cost.",
        "It arrived just now. Thank you for chasing it!",
        "Courier depot in Leipzig has a backlog; three similar cases this week.",
        "Waiting for the courier's investigation (reference opened with their support).",
    ),
    Scenario(
        "address-change",
        "Change the delivery address for {order}",
        "orders",
        Priority.NORMAL,
        "Orders",
        ("address", "delivery"),
        (CHAT, PHONE),
        "Hi! I just ordered ({order}) and realised it's going to my old flat. Can you "
        "change the address?",
        "Hi {first}, the order hasn't been packed yet, so we can still change it. What's "
        "the new address?",
        "It's 12 Harbour Street, flat 3, same town.",
        "Done: order {order} will go to 12 Harbour Street, flat 3. You'll get an updated "
        "confirmation by email.",
        "Great, thanks!",
        "Address changed before packing, no courier fee.",
        "Parcel already handed to courier: waiting for their redirect confirmation.",
    ),
    Scenario(
        "wrong-size",
        "Received the wrong size",
        "orders",
        Priority.NORMAL,
        "Orders",
        ("returns", "exchange"),
        (EMAIL, CHAT),
        "I ordered the hiking boots in 42 and received 44. Order {order}. How do I exchange them?",
        "Hi {first}, sorry for the mix-up! I've created a free return label for the 44s; "
        "would you like the 42s sent now, or once we receive the return?",
        "Now please, I need them for a trip next week.",
        "The 42s are on their way by express and the return label is in your inbox. "
        "Please send the 44s back within 30 days.",
        "Received the right ones, thanks!",
        "Picking error, reported to the warehouse lead.",
        "Size 42 out of stock in the main warehouse: waiting for the transfer.",
    ),
    Scenario(
        "damaged-parcel",
        "Parcel arrived damaged",
        "orders",
        Priority.NORMAL,
        "Orders",
        ("damaged", "delivery"),
        (EMAIL, PHONE),
        "The box for order {order} arrived crushed and the lamp inside is broken. Photos attached.",
        "Hi {first}, I'm sorry, that's not how it should arrive. Thanks for the photos. "
        "Would you prefer a replacement or a refund?",
        "A replacement please.",
        "A replacement lamp is on its way, double-boxed this time. No need to send the "
        "broken one back.",
        "New one arrived in one piece. Thanks!",
        "Claim filed with the courier using the customer's photos.",
        "Waiting for the courier's damage claim decision before shipping the replacement.",
    ),
    Scenario(
        "team-pricing",
        "Pricing for a team of 25",
        "sales",
        Priority.NORMAL,
        "Sales",
        ("pricing", "business"),
        (EMAIL, CHAT),
        "We're looking at the Business plan for 25 people. Is there volume pricing, and "
        "can we pay yearly by invoice?",
        "Hi {first}, thanks for your interest! From 20 seats the Business plan is €12 per "
        "seat per month billed yearly, and invoice payment is available. Would a short "
        "call this week help?",
        "A call on Thursday at 10 would work.",
        "Booked: Thursday at 10:00, the invite is in your inbox. I've also attached a "
        "quote for 25 seats so you can share it with your finance team.",
        "Thanks, talk on Thursday.",
        "Warm lead: 25 seats, decision this quarter. Logged in the CRM.",
        "Waiting for the customer's procurement team to review the quote.",
    ),
    Scenario(
        "trial-upgrade",
        "Upgrade from trial before it ends",
        "sales",
        Priority.NORMAL,
        "Sales",
        ("trial", "upgrade"),
        (CHAT,),
        "My trial ends tomorrow. If I upgrade now, do I lose the data I've set up?",
        "Hi {first}, nothing is lost: everything from your trial carries over when you "
        "upgrade. Which plan are you looking at?",
        "Probably the Standard plan, monthly.",
        "Great choice. You can upgrade under Settings → Billing; I've also applied a 20% "
        "discount for your first three months as a thank-you for trying us.",
        "Upgraded. Thanks for the discount!",
        "Trial user very active (daily logins); good upsell candidate.",
        "Waiting for the customer's manager to approve the purchase.",
    ),
    Scenario(
        "nonprofit-discount",
        "Do you offer a discount for non-profits?",
        "sales",
        Priority.LOW,
        "Sales",
        ("pricing", "nonprofit"),
        (EMAIL,),
        "We're a small animal shelter run by volunteers. Do you have a non-profit discount?",
        "Hi {first}, we do: registered non-profits get 50% off any plan. Could you send "
        "us your charity registration number?",
        "Sure, our registration number is on our website footer. It's 1187432.",
        "Verified, thank you! The 50% discount is now on your account and applies from "
        "your next invoice.",
        "Wonderful, the dogs say thanks!",
        "Charity verified in the public register.",
        "Waiting for the charity register to confirm the number.",
    ),
    Scenario(
        "export-empty",
        "CSV export is empty",
        "technical",
        Priority.NORMAL,
        "Technical",
        ("bug", "export"),
        (EMAIL, CHAT),
        "When I export my order history as CSV the file only contains the header line. "
        "It worked last month.",
        "Hi {first}, thanks for reporting this. Which date range did you select, and "
        "which browser are you using?",
        "Last 12 months, Firefox. Same in Chrome.",
        "Found it: exports longer than 6 months timed out and produced an empty file. "
        "Our engineers fixed it this morning; please try again and it should contain "
        "all your orders.",
        "Works now, thanks.",
        "Reproduced with a 12-month range; bug BUG-2291 filed.",
        "Waiting for engineering to deploy the fix for BUG-2291.",
    ),
    Scenario(
        "app-crash",
        "App crashes when I open my order history",
        "technical",
        Priority.HIGH,
        "Technical",
        ("bug", "mobile"),
        (CHAT, EMAIL),
        'Every time I tap "Orders" in the Android app it closes. I\'ve reinstalled it.',
        "Hi {first}, sorry about that. Which Android version and app version are you on? "
        "You'll find the app version under Settings → About.",
        "Android 14, app 4.2.1.",
        "Thanks! This is a known problem with 4.2.1 on Android 14; version 4.2.2 fixes it "
        "and is now in the Play Store. Please update and it will work again.",
        "Updated, no more crash. Cheers.",
        "Crash report matches the Android 14 date-picker issue.",
        "Waiting for the 4.2.2 release to pass store review.",
    ),
    Scenario(
        "webhooks-stopped",
        "Webhooks stopped arriving",
        "technical",
        Priority.HIGH,
        "Senior support",
        ("api", "integration", "webhooks"),
        (API, EMAIL),
        "Since yesterday 14:00 UTC our endpoint receives no order webhooks. Our logs show "
        "no incoming requests. Did something change?",
        "Hi {first}, I can see our deliveries to your endpoint failing with a TLS error "
        "since your certificate was renewed. Could you check that the full certificate "
        "chain is served?",
        "You were right, the intermediate certificate was missing. Fixed now.",
        "Deliveries are succeeding again, and I've replayed the 143 webhooks from the "
        "last 24 hours, so nothing is missing on your side.",
        "Everything's in sync. Thank you for the replay!",
        "Integration partner on the enterprise plan; escalated straight to tier 2.",
        "Waiting for the customer's ops team to fix their certificate chain.",
    ),
    Scenario(
        "fraud-report",
        "Orders I didn't place on my account",
        "account",
        Priority.URGENT,
        "Security",
        ("fraud", "security", "account-takeover"),
        (PHONE, EMAIL, CHAT),
        "There are two orders on my account that I did NOT place, shipped to an address "
        "I don't know. Someone has got into my account!",
        "Hi {first}, thank you for telling us straight away. I've locked your account and "
        "cancelled both orders before they shipped. Please reset your password with the "
        "link I've just emailed you, and don't reuse it elsewhere.",
        "Done, new password set. Will I get my money back?",
        "Yes: both payments have been refunded in full, and we've flagged the delivery "
        "address. I've also turned on sign-in alerts for your account.",
        "Thank you, that's a relief.",
        "Sign-ins from a new country two days ago; password likely reused from a breach.",
        "Waiting for the payment provider's fraud team to confirm the chargeback status.",
    ),
    Scenario(
        "cancel-subscription",
        "Cancel my subscription",
        "billing",
        Priority.NORMAL,
        "Billing",
        ("cancellation", "subscription"),
        (EMAIL, CHAT),
        "Please cancel my subscription at the end of this month. I'm not using it enough.",
        "Hi {first}, sorry to see you go. Before I cancel: would pausing for up to three "
        "months help? Your data stays and you pay nothing while paused.",
        "No thanks, please cancel.",
        "Done: your subscription ends on the last day of this month and you won't be "
        "charged again. You can export your data until then.",
        "Thanks for making it easy.",
        "Churn reason: low usage. Offered pause, declined.",
        "Waiting for finance to confirm the final prorated invoice.",
    ),
    Scenario(
        "gift-card",
        "Gift card code not accepted",
        "billing",
        Priority.NORMAL,
        "Billing",
        ("gift-card", "checkout"),
        (CHAT, EMAIL),
        'I got a gift card for my birthday but the code says "invalid" at checkout.',
        "Hi {first}, happy birthday! Could you send me the first four and last four "
        "characters of the code? Please don't send the whole code.",
        "Starts with GFT7 and ends with Q2ZK.",
        "Thanks! The card was never activated by the shop that sold it. I've activated it "
        "now; it should work at checkout.",
        "It worked, thank you!",
        "Retail partner forgot activation; third case this month.",
        "Waiting for the retail partner to confirm the card was paid for.",
    ),
    Scenario(
        "feedback",
        "Love the new app, one suggestion",
        "general",
        Priority.LOW,
        None,
        ("feedback", "feature-request"),
        (EMAIL, CHAT),
        "The new app is great. One wish: could you add a dark mode? I shop late at night.",
        "Hi {first}, thank you for the kind words! I've passed your dark-mode wish to our "
        "product team. Would you like us to tell you when it ships?",
        "Yes please!",
        "Noted: you're on the list and we'll email you when dark mode is out.",
        "Thanks!",
        "Feature request logged: dark mode (14 votes now).",
        "Waiting for product to decide on the dark-mode roadmap.",
    ),
    # Conversations in the customers' own languages.
    Scenario(
        "login-pl",
        "Nie mogę się zalogować",
        "account",
        Priority.HIGH,
        "Technical",
        ("login", "account"),
        (CHAT, EMAIL),
        "Dzień dobry, od wczoraj nie mogę się zalogować. Strona pokazuje komunikat "
        '"konto zablokowane".',
        "Dzień dobry {first}, przepraszam za kłopot. Konto zablokowało się po kilku "
        "nieudanych próbach logowania. Czy to Pani/Pan próbował(a) się logować?",
        "Tak, chyba pomyliłem hasło kilka razy.",
        "Odblokowałem konto. Proszę zresetować hasło linkiem, który właśnie wysłałem "
        "e-mailem, i zalogować się ponownie.",
        "Działa, dziękuję bardzo!",
        "Customer writes in Polish; lockout after 5 failed attempts, not an attack.",
        "Waiting for Security to review the failed sign-in attempts.",
        language="pl",
    ),
    Scenario(
        "delivery-de",
        "Wo bleibt meine Bestellung {order}?",
        "orders",
        Priority.HIGH,
        "Orders",
        ("delivery", "courier"),
        (EMAIL, PHONE),
        "Guten Tag, meine Bestellung {order} sollte schon am Montag ankommen. Laut "
        "Sendungsverfolgung liegt sie seit Tagen im Verteilzentrum.",
        "Guten Tag {first}, das tut mir leid. Ich habe beim Paketdienst einen "
        "Nachforschungsauftrag gestellt und melde mich, sobald ich eine Antwort habe.",
        "Gibt es schon Neuigkeiten?",
        "Das Paket wurde gefunden und wird morgen zugestellt. Als Entschuldigung erstatten "
        "wir Ihnen die Versandkosten.",
        "Vielen Dank, ist angekommen!",
        "Customer writes in German; courier backlog at the Leipzig depot.",
        "Waiting for the courier's investigation result.",
        language="de",
    ),
    Scenario(
        "refund-it",
        "Rimborso per l'ordine {order}",
        "billing",
        Priority.NORMAL,
        "Billing",
        ("refund", "returns"),
        (EMAIL, CHAT),
        "Buongiorno, ho restituito le scarpe dell'ordine {order} dieci giorni fa ma non ho "
        "ancora ricevuto il rimborso.",
        "Buongiorno {first}, mi scuso per l'attesa. Il reso è arrivato al nostro magazzino; "
        "controllo subito lo stato del rimborso.",
        "Grazie, aspetto notizie.",
        "Ho emesso il rimborso oggi: lo vedrà sul suo conto entro 3-5 giorni lavorativi.",
        "Ricevuto, grazie mille!",
        "Customer writes in Italian; return was stuck in quality check.",
        "Waiting for the warehouse to finish the return's quality check.",
        language="it",
    ),
    Scenario(
        "payment-el",
        "Η πληρωμή μου απορρίφθηκε",
        "billing",
        Priority.URGENT,
        "Billing",
        ("payment", "checkout"),
        (CHAT, PHONE),
        "Γεια σας, η κάρτα μου απορρίπτεται συνέχεια στο ταμείο, αν και έχει υπόλοιπο.",
        "Γεια σας {first}, λυπάμαι για την ταλαιπωρία. Βλέπω ότι η τράπεζα ζητά επιβεβαίωση "
        "3-D Secure. Μπορείτε να δοκιμάσετε ξανά με την εφαρμογή της τράπεζας ανοιχτή;",
        "Δοκίμασα ξανά, το ίδιο πρόβλημα.",
        "Σας έστειλα σύνδεσμο πληρωμής με email για την παραγγελία {order}. Με αυτόν η "
        "πληρωμή ολοκληρώνεται κανονικά.",
        "Έγινε η πληρωμή, ευχαριστώ πολύ!",
        "Customer writes in Greek; same 3-D Secure timeout as the PSP ticket.",
        "Waiting for the payment provider about the 3-D Secure timeouts.",
        language="el",
    ),
)


@dataclass(frozen=True, slots=True)
class CannedSpec:
    shortcut: str
    title: str
    body: str
    tags: tuple[str, ...]
    language: str = "en"
    scope: str = "shared"
    team: str | None = None
    owner: str | None = None


HELLO = '{{ contact.first_name | default("there") }}'
SIGN = "{{ agent.first_name }}"

CANNED_RESPONSES: tuple[CannedSpec, ...] = (
    CannedSpec(
        "hello",
        "Greeting",
        f"Hi {HELLO}, thanks for reaching out! I'm {SIGN} and I'll help you with this.",
        ("greeting", "any"),
    ),
    CannedSpec(
        "reset-password",
        "How to reset a password",
        f"Hi {HELLO}, you can reset your password at any time from the sign-in page: click "
        '"Forgot password?" and follow the link we email you. The link is valid for one '
        "hour.",
        ("account", "login"),
    ),
    CannedSpec(
        "payment-failed",
        "Failed card payment",
        f"Hi {HELLO}, sorry your payment didn't go through. Most declines come from the "
        "bank's 3-D Secure check timing out: please keep your banking app open and try "
        "again. If it fails once more, I can send you a payment link instead.",
        ("billing", "payment", "urgency:urgent"),
        team="Billing",
    ),
    CannedSpec(
        "refund-policy",
        "Refund policy",
        f"Hi {HELLO}, refunds go back to the original payment method within 5 working days "
        "after your return passes its quality check. You'll get an email the moment it's "
        "issued.",
        ("billing", "refund"),
    ),
    CannedSpec(
        "delivery-delay",
        "Delivery delayed",
        f"Hi {HELLO}, I'm sorry your order is late. I've opened an investigation with the "
        'courier for order {{ contact.custom.order_number | default("your order") }} '
        "and will update you within 24 hours.",
        ("orders", "delivery"),
    ),
    CannedSpec(
        "order-on-its-way",
        "Order on its way",
        f"Hi {HELLO}, I can see your order #{{{{ contact.custom.order_number }}}} is on its "
        "way! You can track it here. Let me know if you need anything else.",
        ("orders", "delivery"),
    ),
    CannedSpec(
        "address-change",
        "Address change before shipping",
        f"Hi {HELLO}, good news: your order hasn't shipped yet, so I can still change the "
        "delivery address. Please send me the full new address.",
        ("orders", "address"),
    ),
    CannedSpec(
        "trial-extend",
        "Trial extension",
        f"Hi {HELLO}, I've extended your trial by 14 days so you have time to try "
        "everything. Your data carries over when you upgrade.",
        ("sales", "trial", "customer:trial"),
    ),
    CannedSpec(
        "pricing",
        "Pricing overview",
        f"Hi {HELLO}, our plans: Standard €9, Business €15 per seat per month (€12 billed "
        "yearly from 20 seats), Enterprise on request. Happy to set up a call!",
        ("sales", "pricing"),
    ),
    CannedSpec(
        "bug-ack",
        "Bug acknowledged",
        f"Hi {HELLO}, thanks for the detailed report! I could reproduce the problem and our "
        "engineers are on it. I'll let you know as soon as the fix is live.",
        ("technical", "bug"),
    ),
    CannedSpec(
        "escalate",
        "Escalating to tier 2",
        f"Hi {HELLO}, I've passed your case to our senior support team, who can look "
        "deeper into it. They'll reply in this conversation; no need to repeat anything.",
        ("escalation", "any"),
    ),
    CannedSpec(
        "close-check",
        "Anything else?",
        f"Is there anything else I can help you with, {HELLO}? If not, I'll close this "
        f"conversation. Have a lovely day! {SIGN}",
        ("closing", "any"),
    ),
    CannedSpec(
        "invoice-copy",
        "Invoice copy",
        f"Hi {HELLO}, you'll find all your invoices in your account under Orders → "
        "Invoices. I've also attached a copy of the one you asked for.",
        ("billing", "invoice", "customer:business"),
    ),
    CannedSpec(
        "powitanie",
        "Powitanie (Polish greeting)",
        f"Dzień dobry {HELLO}, dziękuję za wiadomość! Nazywam się {SIGN} i chętnie pomogę.",
        ("greeting", "any"),
        language="pl",
    ),
    CannedSpec(
        "begruessung",
        "Begrüßung (German greeting)",
        f"Guten Tag {HELLO}, vielen Dank für Ihre Nachricht! Mein Name ist {SIGN}, ich "
        "helfe Ihnen gern weiter.",
        ("greeting", "any"),
        language="de",
    ),
    CannedSpec(
        "anna-refund-done",
        "Refund issued (Anna's wording)",
        f"Hi {HELLO}, the refund is on its way: you'll see it on your statement in 3-5 "
        f"working days. Anything else, just reply here. {SIGN}",
        ("billing", "refund"),
        scope="personal",
        owner="Anna Kowalska",
    ),
)


@dataclass(frozen=True, slots=True)
class ArticleSpec:
    slug: str
    title: str
    category: str
    body: str
    published: bool = True
    internal: bool = False
    helpful: tuple[int, int] = (0, 0)


ARTICLES: tuple[ArticleSpec, ...] = (
    ArticleSpec(
        "reset-your-password",
        "Resetting your password",
        "account",
        "# Resetting your password\n\n1. Open the sign-in page and choose **Forgot "
        "password?**\n2. Enter the email address of your account.\n3. Follow the link in "
        "the email within one hour.\n\nNo email? Check your spam folder, or "
        "[contact us](/contact).\n",
        helpful=(128, 9),
    ),
    ArticleSpec(
        "two-factor-authentication",
        "Two-factor authentication",
        "account",
        "# Two-factor authentication\n\nTurn it on under **Settings → Security**. Keep "
        "your backup codes somewhere safe: they let you in if you lose your phone.\n\n"
        "Lost your phone *and* your backup codes? Contact support; we'll verify your "
        "identity before removing two-factor authentication.\n",
        helpful=(64, 3),
    ),
    ArticleSpec(
        "why-did-my-payment-fail",
        "Why did my payment fail?",
        "billing",
        "# Why did my payment fail?\n\nThe most common reasons:\n\n- The bank's **3-D "
        "Secure** check timed out: keep your banking app open while paying.\n- The card "
        "has expired or the billing address does not match.\n- The bank blocked an "
        "unusual purchase: a quick call to them helps.\n",
        helpful=(211, 17),
    ),
    ArticleSpec(
        "refund-policy",
        "Our refund policy",
        "billing",
        "# Our refund policy\n\nReturn any item within **30 days**. Once the return "
        "passes its quality check, the refund goes to your original payment method "
        "within 5 working days.\n",
        helpful=(97, 12),
    ),
    ArticleSpec(
        "track-your-delivery",
        "Tracking your delivery",
        "orders",
        "# Tracking your delivery\n\nYour tracking link is in the shipping confirmation "
        "email and under **Orders** in your account. Tracking can take 24 hours to show "
        "the first scan.\n",
        helpful=(156, 21),
    ),
    ArticleSpec(
        "change-delivery-address",
        "Changing your delivery address",
        "orders",
        "# Changing your delivery address\n\nWe can change the address until your order "
        "is packed. After that, the courier can sometimes redirect it: contact us with "
        "your order number.\n",
        helpful=(45, 6),
    ),
    ArticleSpec(
        "plans-and-pricing",
        "Plans and pricing",
        "sales",
        "# Plans and pricing\n\n| Plan | Price |\n| --- | --- |\n| Standard | €9 per "
        "month |\n| Business | €15 per seat per month |\n| Enterprise | on request |\n\n"
        "Registered non-profits get 50% off.\n",
        helpful=(73, 4),
    ),
    ArticleSpec(
        "upgrade-from-trial",
        "Upgrading from a trial",
        "sales",
        "# Upgrading from a trial\n\nEverything you set up during the trial carries over. "
        "Upgrade any time under **Settings → Billing**.\n",
        helpful=(38, 2),
    ),
    ArticleSpec(
        "handling-fraud-reports",
        "Handling fraud reports (agents only)",
        "account",
        "# Handling fraud reports\n\n1. Lock the account and cancel unshipped orders.\n"
        "2. Send a password-reset link; never set a password for the customer.\n3. "
        "Refund unauthorised payments and flag the delivery address.\n4. Transfer the "
        "conversation to the **Security** team.\n",
        internal=True,
    ),
    ArticleSpec(
        "export-your-data",
        "Exporting your data",
        "technical",
        "# Exporting your data\n\n*Draft: waiting for the new export screen.*\n\n"
        "Go to **Settings → Data** and choose CSV or JSON.\n",
        published=False,
    ),
)
