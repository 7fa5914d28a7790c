"""Workspace latency: from a customer's message reaching the server to it showing in
the agent's pane, with four panes open, in Chromium. `python -m bench.workspace
[--messages 200]` prints a table (target: p95 < 300 ms).

The server is the real app (uvicorn, SQLite in a temporary folder); the customer's
messages enter through the integration endpoint (`POST /conversations/{id}/incoming`,
the same commit-then-publish path as the widget); a MutationObserver in the page
stamps each message when its timeline entry is added.
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
from sqlalchemy.orm import Session
from tests.browser.shots import app_server, chromium_page, sign_in
from tests.factories import make_contact, make_conversation, make_inbox, make_user
from tests.support import DEFAULT_PASSWORD

from helpline.demo.seed import DemoLogin

AGENT = "bench-agent@example.com"
NAMES = ("Anna Kowalska", "Mia Rossi", "Ravi Patel", "Jonas Berg")
OBSERVER = """() => {
  window.__seen = {};
  new MutationObserver((records) => {
    const now = performance.timeOrigin + performance.now();
    for (const record of records) for (const node of record.addedNodes) {
      if (node.nodeType === 1 && node.matches(".entry.message.contact")) {
        window.__seen[node.querySelector(".body").textContent] = now;
      }
    }
  }).observe(document.getElementById("ws-panes"), {childList: true, subtree: true});
}"""


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(messages: int) -> list[float]:
    ids: list[int] = []

    def prepare(db: Session) -> None:
        inbox = make_inbox(db, "Website chat")
        agent = make_user(db, AGENT, name="Bench Agent", inboxes=[inbox])
        ids.extend(
            make_conversation(db, inbox, make_contact(db, name=name), assignee_id=agent.id).id
            for name in NAMES
        )
        db.commit()

    latencies: list[float] = []
    with (
        app_server(prepare, access_log=False) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
        chromium_page({"width": 1920, "height": 1080}) as page,
    ):
        login = http.post("/api/v1/auth/login", json={"email": AGENT, "password": DEFAULT_PASSWORD})
        http.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        sign_in(
            page,
            server,
            DemoLogin("agent", "Bench Agent", AGENT, DEFAULT_PASSWORD),
            "/login?next=/workspace",
        )
        page.locator("#ws[data-state='ready'][data-socket='open']").wait_for()
        for conversation_id in ids:
            page.evaluate(
                "id => window.helplineWorkspace.openConversation(id, {focus: false})",
                conversation_id,
            )
        assert page.locator(".pane").count() == 4
        page.evaluate(OBSERVER)
        for n in range(messages + 5):
            body = f"bench message {n}"
            conversation_id = ids[n % len(ids)]
            sent = time.time() * 1000
            response = http.post(
                f"/api/v1/conversations/{conversation_id}/incoming", json={"body": body}
            )
            assert response.status_code == 201, response.text
            page.wait_for_function("b => b in window.__seen", arg=body, timeout=10_000)
            seen = page.evaluate("b => window.__seen[b]", body)
            if n >= 5:  # warm-up
                latencies.append(seen - sent)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    latencies = run(args.messages)
    p95 = percentile(latencies, 0.95)
    print("| panes | messages | p50 ms | p95 ms | p99 ms | max ms | target p95 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| 4 | {len(latencies)} | {statistics.median(latencies):.1f} | {p95:.1f} "
        f"| {percentile(latencies, 0.99):.1f} | {max(latencies):.1f} "
        f"| < 300 ms: {'met' if p95 < 300 else 'MISSED'} |"
    )


if __name__ == "__main__":
    main()
