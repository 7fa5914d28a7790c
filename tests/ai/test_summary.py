from __future__ import annotations

from helpline.ai.summary import TranscriptLine, summarise


def test_the_summary_keeps_the_customer_s_problem_references_and_last_reply() -> None:
    transcript = [
        TranscriptLine("contact", "Hi!"),
        TranscriptLine("bot", "Hello, how can I help?"),
        TranscriptLine(
            "contact", "My order #123456 has not arrived. I paid 49.99 EUR two weeks ago."
        ),
        TranscriptLine("bot", "You can track your order on the account page."),
        TranscriptLine("contact", "The tracking page says the order is lost. My email is a@b.com"),
        TranscriptLine("contact", "thanks"),
    ]

    summary = summarise(transcript)

    assert summary.key_sentences[0] == "My order #123456 has not arrived."
    assert "The tracking page says the order is lost." in summary.key_sentences
    assert summary.references == ("#123456", "49.99 EUR", "a@b.com")
    assert summary.last_reply == "bot: You can track your order on the account page."
    assert "Hi!" not in summary.text and "thanks" not in summary.text
    assert summary.text.startswith("Customer: My order #123456")


def test_sentences_keep_their_order_and_the_count_is_limited() -> None:
    transcript = [
        TranscriptLine("contact", f"Problem number {n} with the printer driver.") for n in range(6)
    ]

    summary = summarise(transcript, max_sentences=2)

    assert len(summary.key_sentences) == 2
    assert summary.key_sentences[0] == "Problem number 0 with the printer driver."


def test_summaries_work_in_any_language() -> None:
    transcript = [
        TranscriptLine("contact", "Dzień dobry"),
        TranscriptLine("contact", "Nie mogę zalogować się do konta. Kod SMS nie przychodzi."),
        TranscriptLine("agent", "Sprawdzę to."),
    ]

    summary = summarise(transcript)

    assert summary.key_sentences == ("Nie mogę zalogować się do konta.", "Kod SMS nie przychodzi.")
    assert summary.last_reply == "agent: Sprawdzę to."


def test_an_empty_conversation_has_a_placeholder_summary() -> None:
    assert summarise([]).text == "(no customer messages)"
