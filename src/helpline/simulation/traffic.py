# ruff: noqa: RUF001  (Greek phrases for Greek-speaking visitors)
"""Live demo traffic: simulated visitors who chat with a running Helpline server.

The driver replays a scenario's customers (the same arrivals, topics, plans,
languages and patience as `helpline simulate`) in real time, sped up by `speed`,
through the public widget protocol: each visitor opens a session, starts a
conversation, listens on the visitor WebSocket for an agent's reply, writes back
once or twice when answered, and leaves when nobody answers within its patience.
It drives the demo (`helpline demo --traffic`) and doubles as a load generator
(`helpline simulate traffic`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from helpline.domain.enums import Channel
from helpline.simulation.arrivals import Customer, generate_customers
from helpline.simulation.scenario import Model

FIRST_NAMES = (
    "Mia", "Noah", "Zofia", "Luca", "Eleni", "Jan", "Giulia", "Nikos", "Emma", "Oliver",
    "Anna", "Marco", "Sofia", "Piotr", "Chloe", "Dimitris", "Ava", "Leo", "Maja", "Elias",
)  # fmt: skip
LAST_NAMES = (
    "Kowalska", "Rossi", "Papadopoulos", "Smith", "Nowak", "Bianchi", "Jones", "Wilson",
    "Georgiou", "Ricci", "Brown", "Lewandowski", "Taylor", "Costa", "Novak", "Evans",
)  # fmt: skip

GREETINGS = {"en": "Hi!", "pl": "Dzień dobry!", "it": "Buongiorno!", "el": "Γεια σας!"}
"""Opening words per language; the topic's text from the scenario follows."""
FOLLOW_UPS = {
    "en": "Hello? Is anyone there?",
    "pl": "Halo? Czy ktoś tu jest?",
    "it": "Pronto? C'è qualcuno?",
    "el": "Παρακαλώ; Είναι κανείς εκεί;",
}
GOODBYES = {
    "en": "Never mind, bye.",
    "pl": "Nieważne, do widzenia.",
    "it": "Non importa, arrivederci.",
    "el": "Δεν πειράζει, αντίο.",
}
REPLIES = {
    "en": ("Thanks, that helps.", "OK, let me check that.", "Great, thank you!"),
    "pl": ("Dzięki, to pomaga.", "OK, sprawdzę to.", "Świetnie, dziękuję!"),
    "it": ("Grazie, mi è utile.", "Ok, controllo subito.", "Perfetto, grazie!"),
    "el": ("Ευχαριστώ, βοηθάει.", "Εντάξει, θα το ελέγξω.", "Τέλεια, ευχαριστώ!"),
}
CATEGORY_TEXTS = {
    "en": {
        "billing": "I was charged twice this month.",
        "orders": "Where is my order? It has not arrived yet.",
        "returns": "I would like to return an item.",
        "account": "I cannot log in to my account.",
        "sales": "How much does the business plan cost?",
        "technical": "The app shows an error when I save.",
    },
    "pl": {
        "billing": "Pobrano ode mnie opłatę dwa razy.",
        "orders": "Gdzie jest moje zamówienie?",
        "returns": "Chciałbym zwrócić produkt.",
        "account": "Nie mogę się zalogować.",
        "sales": "Ile kosztuje plan biznesowy?",
        "technical": "Aplikacja pokazuje błąd przy zapisie.",
    },
    "it": {
        "billing": "Mi avete addebitato due volte.",
        "orders": "Dov'è il mio ordine?",
        "returns": "Vorrei restituire un articolo.",
        "account": "Non riesco ad accedere al mio account.",
        "sales": "Quanto costa il piano business?",
        "technical": "L'app mostra un errore quando salvo.",
    },
    "el": {
        "billing": "Χρεωθήκα δύο φορές.",
        "orders": "Πού είναι η παραγγελία μου;",
        "returns": "Θα ήθελα να επιστρέψω ένα προϊόν.",
        "account": "Δεν μπορώ να συνδεθώ.",
        "sales": "Πόσο κοστίζει το επαγγελματικό πακέτο;",
        "technical": "Η εφαρμογή βγάζει σφάλμα όταν αποθηκεύω.",
    },
}
"""Phrases for visitors who write in another language than the scenario's English texts."""

THINK_SECONDS = (20.0, 90.0)
"""Simulated seconds a visitor takes to read an answer and write back."""
MAX_RETRY_AFTER = 60.0
MAX_PATIENCE_SECONDS = 3600.0
"""Simulated patience is capped: a visitor without a limit still leaves after an hour."""


@dataclass
class TrafficStats:
    """Counters of one run; read from other threads (plain ints, so no lock)."""

    started: int = 0
    answered: int = 0
    abandoned: int = 0
    finished: int = 0
    skipped: int = 0
    """Arrivals dropped because `max_visitors` were already chatting."""
    messages: int = 0
    errors: int = 0
    rate_limited: int = 0

    def summary(self) -> str:
        return (
            f"traffic: {self.started} visitors started, {self.answered} answered, "
            f"{self.abandoned} abandoned, {self.messages} messages sent, "
            f"{self.skipped} skipped, {self.errors} errors"
        )


def first_message(customer: Customer) -> str:
    """What the visitor writes first: the scenario's text, in the visitor's language."""
    language = customer.language or "en"
    if language in CATEGORY_TEXTS and language != "en":
        text = CATEGORY_TEXTS[language].get(customer.category, CATEGORY_TEXTS[language]["account"])
    else:
        text = customer.text if customer.text != customer.topic.name else ""
        text = text or CATEGORY_TEXTS["en"].get(
            customer.category, f"I have a question about {customer.topic.name}."
        )
    return f"{GREETINGS.get(language, GREETINGS['en'])} {text}"


def _phrase(table: dict[str, str], language: str | None) -> str:
    return table.get(language or "en", table["en"])


class TrafficDriver:
    """Runs simulated visitors against `url`'s chat inbox `inbox_key` until stopped.

    `speed` is simulated seconds per real second. `duration` (real seconds) ends the
    run on its own; without it the scenario's days repeat until `stop()`.
    """

    def __init__(
        self,
        url: str,
        inbox_key: str,
        model: Model,
        *,
        speed: float = 10.0,
        max_visitors: int = 20,
        duration: float | None = None,
        report_every: float | None = 10.0,
        echo: Callable[[str], None] = print,
        seed: int | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        if max_visitors < 1:
            raise ValueError("max_visitors must be at least 1")
        self.url = url.rstrip("/")
        self.inbox_key = inbox_key
        self.model = model
        self.speed = speed
        self.max_visitors = max_visitors
        self.duration = duration
        self.report_every = report_every
        self.echo = echo
        self.rng = random.Random(model.seed if seed is None else seed)
        parts = urlsplit(self.url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        ws_scheme = "wss" if parts.scheme == "https" else "ws"
        self.base = f"{self.url}/api/v1/widget/{inbox_key}"
        self.ws_url = f"{ws_scheme}://{parts.netloc}{parts.path}/api/v1/widget/{inbox_key}/ws"
        self.stats = TrafficStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._visitors: set[asyncio.Task[None]] = set()
        self._stopping = False

    # -- running in a thread ---------------------------------------------------------

    def start(self) -> None:
        """Run in a background thread with its own event loop."""
        self._thread = threading.Thread(target=self.run, name="helpline-traffic", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel every visitor, close their sockets and wait for the thread
        (`timeout=0`: only ask, e.g. from a signal handler)."""
        self._stopping = True
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop finished meanwhile
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None and timeout > 0:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> TrafficStats:
        """Run in the calling thread until stopped or `duration` has passed."""
        asyncio.run(self.run_async())
        return self.stats

    # -- the driver ------------------------------------------------------------------

    async def run_async(self) -> TrafficStats:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        headers = {"Origin": self.origin, "User-Agent": "helpline-traffic"}
        async with httpx.AsyncClient(headers=headers, timeout=10.0) as http:
            arrivals = asyncio.create_task(self._when_ready(http))
            reporter = asyncio.create_task(self._report()) if self.report_every else None
            stopper = asyncio.create_task(self._stop.wait())
            waiting: set[asyncio.Task[Any]] = {arrivals, stopper}
            await asyncio.wait(waiting, timeout=self.duration, return_when="FIRST_COMPLETED")
            if arrivals.done() and not arrivals.cancelled() and arrivals.exception():
                self.echo(f"traffic stopped: {arrivals.exception()}")
            tasks: list[asyncio.Task[Any]] = [arrivals, stopper, *self._visitors]
            if reporter is not None:
                tasks.append(reporter)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.report_every:
            self.echo(self.stats.summary())
        return self.stats

    async def _report(self) -> None:
        assert self.report_every
        while True:
            await asyncio.sleep(self.report_every)
            self.echo(self.stats.summary())

    async def _when_ready(self, http: httpx.AsyncClient) -> None:
        """Wait for the server to answer the widget's config (it may still be starting)."""
        while True:
            try:
                response = await http.get(f"{self.base}/config")
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code == 200:
                break
            if response is not None and response.status_code in {403, 404}:
                raise RuntimeError(f"the widget API refused us: {response.text}")
            await asyncio.sleep(0.2)
        await self._arrivals(http)

    async def _arrivals(self, http: httpx.AsyncClient) -> None:
        """Start each customer at its arrival time; the days of the scenario repeat."""
        replication = 0
        slots = asyncio.Semaphore(self.max_visitors)
        while True:
            customers = [
                customer
                for customer in generate_customers(self.model, replication)
                if customer.channel == Channel.CHAT
            ]
            if not customers:
                raise RuntimeError("the scenario has no arrivals")
            # Start at the first arrival, not at midnight: the demo should not idle.
            offset = customers[0].arrival
            began = time.monotonic()
            for customer in customers:
                delay = (customer.arrival - offset) / self.speed - (time.monotonic() - began)
                if delay > 0:
                    await asyncio.sleep(delay)
                if slots.locked():
                    self.stats.skipped += 1
                    continue
                await slots.acquire()
                task = asyncio.create_task(self._visitor(http, customer, slots))
                self._visitors.add(task)
                task.add_done_callback(self._visitors.discard)
            replication += 1

    async def _visitor(
        self, http: httpx.AsyncClient, customer: Customer, slots: asyncio.Semaphore
    ) -> None:
        try:
            await Visitor(self, http, customer).live()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # one visitor's failure must not end the traffic
            if self._stopping:  # the server may be shutting down too: not a failure
                return
            self.stats.errors += 1
            if self.stats.errors <= 3:
                self.echo(f"traffic: a visitor failed: {type(error).__name__}: {error}")
        finally:
            slots.release()

    async def request(
        self, http: httpx.AsyncClient, path: str, body: dict[str, Any], token: str | None = None
    ) -> dict[str, Any]:
        """POST to the widget API, waiting out 429 answers as Retry-After says."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        while True:
            response = await http.post(f"{self.base}/{path}", json=body, headers=headers)
            if response.status_code != 429:
                break
            self.stats.rate_limited += 1
            try:
                wait = float(response.headers.get("Retry-After", "1"))
            except ValueError:
                wait = 1.0
            await asyncio.sleep(min(max(wait, 0.5), MAX_RETRY_AFTER))
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


class Visitor:
    """One simulated customer: writes, waits, writes again or leaves."""

    def __init__(self, driver: TrafficDriver, http: httpx.AsyncClient, customer: Customer) -> None:
        self.driver = driver
        self.http = http
        self.customer = customer
        self.rng = random.Random(f"{driver.rng.random()}:{customer.index}")
        self.token = ""
        self.conversation_id = 0
        self.agent_messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def real(self, simulated_seconds: float) -> float:
        return simulated_seconds / self.driver.speed

    async def live(self) -> None:
        stats = self.driver.stats
        first = self.rng.choice(FIRST_NAMES)
        last = self.rng.choice(LAST_NAMES)
        session = await self.driver.request(
            self.http,
            "sessions",
            {
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}.{self.customer.index}@visitor.example",
            },
        )
        self.token = session["visitor_token"]
        stats.started += 1
        conversation = await self.driver.request(
            self.http,
            "conversations",
            {"message": first_message(self.customer), "client_message_id": self._client_id()},
            self.token,
        )
        stats.messages += 1
        self.conversation_id = int(conversation["id"])
        async with connect(
            f"{self.driver.ws_url}?token={self.token}",
            origin=Origin(self.driver.origin),
            open_timeout=10,
            close_timeout=1,
        ) as socket:
            await socket.send(
                json.dumps(
                    {
                        "type": "subscribe",
                        "conversation_id": self.conversation_id,
                        "after_seq": int(conversation.get("last_seq") or 0),
                    }
                )
            )
            listener = asyncio.create_task(self._listen(socket))
            try:
                await self._converse()
            finally:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
        stats.finished += 1

    async def _converse(self) -> None:
        stats = self.driver.stats
        language = self.customer.language
        patience = self.real(min(self.customer.patience, MAX_PATIENCE_SECONDS))
        if not await self._await_agent(patience / 2):
            await self._send(_phrase(FOLLOW_UPS, language))
            if not await self._await_agent(patience / 2):
                await self._send(_phrase(GOODBYES, language))
                stats.abandoned += 1
                return
        stats.answered += 1
        replies = REPLIES.get(language or "en", REPLIES["en"])
        for turn in range(self.rng.choice((1, 2))):
            await asyncio.sleep(self.real(self.rng.uniform(*THINK_SECONDS)))
            await self._send(replies[turn % len(replies)])
            if not await self._await_agent(patience):
                return

    async def _await_agent(self, seconds: float) -> bool:
        """Whether an agent's message arrives within `seconds` (real time)."""
        try:
            await asyncio.wait_for(self.agent_messages.get(), timeout=max(seconds, 0.01))
        except TimeoutError:
            return False
        return True

    async def _listen(self, socket: ClientConnection) -> None:
        async for raw in socket:
            frame = json.loads(raw)
            if frame.get("type") != "event":
                continue
            event = frame.get("event") or {}
            message = event.get("message") or {}
            if event.get("type") == "message.created" and message.get("author") == "agent":
                self.agent_messages.put_nowait(message)

    async def _send(self, body: str) -> None:
        await self.driver.request(
            self.http,
            f"conversations/{self.conversation_id}/messages",
            {"body": body, "client_message_id": self._client_id()},
            self.token,
        )
        self.driver.stats.messages += 1

    def _client_id(self) -> str:
        return f"sim-{uuid.UUID(int=self.rng.getrandbits(128)).hex}"
