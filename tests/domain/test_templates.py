from dataclasses import dataclass, field

import pytest

from helpline.domain.templates import (
    DOCUMENTED_VARIABLES,
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_CHARS,
    MAX_VALUE_CHARS,
    AgentFacts,
    ContactFacts,
    ConversationFacts,
    IssueCode,
    OrganisationFacts,
    TemplateContext,
    parse_template,
    render_template,
    split_name,
    validate_template,
)

SEED_TEMPLATE = (
    'Hi {{ contact.first_name | default("there") }}, I can see your order '
    "#{{ contact.custom.order_number }} is on its way! You can track it here. "
    "Let me know if you need anything else."
)

FULL_CONTEXT = TemplateContext(
    contact=ContactFacts(
        name="Sarah Kowalska-Nowak",
        email="sarah@example.com",
        plan="enterprise",
        custom={"order_number": 1245, "vip": True, "credit": 12.5, "tier-name": "gold"},
    ),
    conversation=ConversationFacts(number=318, subject="Where is my parcel?", category="orders"),
    agent=AgentFacts(name="Tomasz Wiśniewski"),
    organisation=OrganisationFacts(name="Acme Shop"),
)


def codes(text: str) -> list[IssueCode]:
    return [issue.code for issue in validate_template(text)]


def test_seed_example_renders_exactly() -> None:
    context = TemplateContext(contact=ContactFacts(name="Sarah", custom={"order_number": 1245}))

    result = render_template(SEED_TEMPLATE, context)

    assert result.text == (
        "Hi Sarah, I can see your order #1245 is on its way! You can track it here. "
        "Let me know if you need anything else."
    )
    assert result.ok
    assert validate_template(SEED_TEMPLATE) == []


def test_seed_example_without_a_first_name_uses_the_fallback() -> None:
    context = TemplateContext(contact=ContactFacts(name="", custom={"order_number": "1245"}))

    result = render_template(SEED_TEMPLATE, context)

    assert result.text.startswith("Hi there, I can see your order #1245 is on its way!")
    assert result.missing == ()


@pytest.mark.parametrize(
    ("placeholder", "expected"),
    [
        ("contact.name", "Sarah Kowalska-Nowak"),
        ("contact.first_name", "Sarah"),
        ("contact.last_name", "Kowalska-Nowak"),
        ("contact.email", "sarah@example.com"),
        ("contact.plan", "enterprise"),
        ("contact.custom.order_number", "1245"),
        ("contact.custom.vip", "yes"),
        ("contact.custom.credit", "12.5"),
        ("contact.custom.tier-name", "gold"),
        ("conversation.number", "318"),
        ("conversation.subject", "Where is my parcel?"),
        ("conversation.category", "orders"),
        ("agent.name", "Tomasz Wiśniewski"),
        ("agent.first_name", "Tomasz"),
        ("organisation.name", "Acme Shop"),
    ],
)
def test_every_documented_variable_renders(placeholder: str, expected: str) -> None:
    result = render_template(f"<{{{{ {placeholder} }}}}>", FULL_CONTEXT)

    assert result.text == f"<{expected}>"
    assert result.ok


def test_documented_variables_are_all_accepted() -> None:
    for variable in DOCUMENTED_VARIABLES:
        text = "{{ " + variable.replace("<key>", "order_number") + " }}"
        assert validate_template(text) == [], variable


def test_explicit_first_name_wins_over_the_name() -> None:
    context = TemplateContext(contact=ContactFacts(name="Dr. Sarah Smith", first_name="Sarah"))

    assert render_template("{{ contact.first_name }}", context).text == "Sarah"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ contact.first_name | upper }}", "SARAH"),
        ("{{ contact.first_name | lower }}", "sarah"),
        ("{{ conversation.subject | title }}", "Where Is My Parcel?"),
        ("{{ contact.plan | capitalize }}", "Enterprise"),
        ("{{ contact.custom.padded | trim }}!", "spaced!"),
        ("{{contact.first_name|upper()}}", "SARAH"),
        ("{{ contact.custom.none | default('friend') | upper }}", "FRIEND"),
        ('{{ contact.custom.none | upper | default("x") }}', "x"),
        ('{{ contact.custom.none | default("say \\"hi\\"") }}', 'say "hi"'),
        ("{{ contact.first_name | default('there') }}", "sarah"),
    ],
)
def test_filters(template: str, expected: str) -> None:
    context = TemplateContext(
        contact=ContactFacts(
            name="sarah", plan="enterprise", custom={"padded": "  spaced  ", "none": None}
        ),
        conversation=ConversationFacts(subject="where is my parcel?"),
    )

    result = render_template(template, context)

    assert result.text == expected
    assert result.issues == ()


def test_blank_values_count_as_missing_so_the_fallback_applies() -> None:
    context = TemplateContext(contact=ContactFacts(name="   ", custom={"city": ""}))

    result = render_template(
        '{{ contact.first_name | default("there") }} from '
        '{{ contact.custom.city | default("your city") }}',
        context,
    )

    assert result.text == "there from your city"


def test_missing_values_without_fallback_become_empty_and_are_reported() -> None:
    result = render_template(
        "Order {{ contact.custom.order_number }} for {{ contact.email }}, "
        "ref {{ contact.custom.order_number }}.",
        TemplateContext(),
    )

    assert result.text == "Order  for , ref ."
    assert result.missing == ("contact.custom.order_number", "contact.email")
    assert not result.ok
    assert "{" not in result.text and "}" not in result.text


def test_an_explicit_empty_fallback_is_not_reported_missing() -> None:
    result = render_template('Hi{{ contact.first_name | default("") }}!', TemplateContext())

    assert result.text == "Hi!"
    assert result.missing == ()


def test_unknown_variables_and_filters_are_flagged_with_positions() -> None:
    text = "Hello {{ contact.nme }},\nyour {{ contact.first_name | shout }} and {{ order.id }}"

    issues = validate_template(text)

    assert [issue.code for issue in issues] == [
        IssueCode.UNKNOWN_VARIABLE,
        IssueCode.UNKNOWN_FILTER,
        IssueCode.UNKNOWN_VARIABLE,
    ]
    first, second, third = issues
    assert text[first.start : first.end] == "contact.nme"
    assert (first.line, first.column) == (1, 10)
    assert first.suggestion == "contact.name"
    assert text[second.start : second.end] == "shout"
    assert (second.line, second.column) == (2, 30)
    assert text[third.start : third.end] == "order.id"


def test_misspelt_filter_gets_a_suggestion() -> None:
    (issue,) = validate_template('{{ contact.name | defualt("x") }}')

    assert issue.code == IssueCode.UNKNOWN_FILTER
    assert issue.suggestion == "default"


@pytest.mark.parametrize(
    ("template", "code"),
    [
        ("{{ contact.name | default }}", IssueCode.BAD_ARGUMENT),
        ("{{ contact.name | default(42) }}", IssueCode.BAD_ARGUMENT),
        ('{{ contact.name | upper("x") }}', IssueCode.BAD_ARGUMENT),
        ('{{ contact.name | default("x" }}', IssueCode.SYNTAX_ERROR),
        ("{{ }}", IssueCode.SYNTAX_ERROR),
        ("{{ contact.name |  }}", IssueCode.SYNTAX_ERROR),
        ("{{ contact.name", IssueCode.SYNTAX_ERROR),
        ("contact.name }}", IssueCode.SYNTAX_ERROR),
        ("{{ contact.custom }}", IssueCode.UNKNOWN_VARIABLE),
        ("{{ contact.custom.a.b }}", IssueCode.UNKNOWN_VARIABLE),
        ("{{ contact.custom. }}", IssueCode.UNKNOWN_VARIABLE),
        ("{{ contact }}", IssueCode.UNKNOWN_VARIABLE),
    ],
)
def test_malformed_placeholders_are_flagged(template: str, code: IssueCode) -> None:
    assert code in codes(template)


HOSTILE_TEMPLATES = [
    "{{ contact.__class__ }}",
    "{{ contact.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__ }}",
    "{{ ''.join }}",
    "{{ cycler }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__ }}",
    "{{ self }}",
    "{{ config }}",
    "{{ request.application }}",
    "{{ range(10**10) }}",
    "{{ contact.name * 100000000 }}",
    "{{ 'a' * 100000000 }}",
    "{{ 9**9**9 }}",
    "{{ contact.name.upper() }}",
    "{{ contact['name'] }}",
    "{{ contact.name | attr('__class__') }}",
    "{{ contact.name | map('upper') | join }}",
    "{{ contact.name | format('%s') }}",
    "{{ contact.name if contact.name else '' }}",
    "{% for i in range(10**9) %}loop{% endfor %}",
    "{% set x = contact %}{{ x }}",
    "{% include '/etc/passwd' %}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{%- raw -%}{{ contact.name }}{%- endraw -%}",
    "{# hidden #}",
    "{{- contact.name -}}",
    "{{ {{ contact.name }} }}",
]


@pytest.mark.parametrize("template", HOSTILE_TEMPLATES)
def test_hostile_templates_are_refused(template: str) -> None:
    assert validate_template(template), template


@dataclass
class Tripwire:
    """A CRM value whose code must never run while rendering."""

    calls: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        self.calls.append("str")
        return "pwned"

    def __format__(self, spec: str) -> str:
        self.calls.append("format")
        return "pwned"

    def __getattr__(self, name: str) -> object:
        self.calls.append(name)
        raise AttributeError(name)


@pytest.mark.parametrize("template", [*HOSTILE_TEMPLATES, "{{ contact.custom.trap }}"])
def test_hostile_templates_are_never_executed(template: str) -> None:
    trap = Tripwire()
    context = TemplateContext(contact=ContactFacts(name="Sarah", custom={"trap": trap}))

    result = render_template(template, context)

    assert trap.calls == []
    assert "pwned" not in result.text
    assert "{{" not in result.text and "}}" not in result.text
    assert "{%" not in result.text
    assert "Sarah" not in result.text or template == "{%- raw -%}{{ contact.name }}{%- endraw -%}"


def test_loop_statements_are_dropped_not_repeated() -> None:
    result = render_template("a{% for i in range(3) %}b{% endfor %}c", FULL_CONTEXT)

    assert result.text == "abc"
    assert {issue.code for issue in result.issues} == {IssueCode.NOT_SUPPORTED}


def test_invalid_placeholders_render_as_nothing_and_keep_the_rest() -> None:
    result = render_template(
        "Hi {{ contact.first_name }}, ref {{ contact.__class__ }} and {{ oops", FULL_CONTEXT
    )

    assert result.text == "Hi Sarah, ref  and  oops"
    assert len(result.issues) == 2
    assert not result.ok


def test_overlong_template_is_refused_without_parsing() -> None:
    text = "{{ contact.name }}" * (MAX_TEMPLATE_CHARS // 10)

    (issue,) = validate_template(text)

    assert issue.code == IssueCode.TOO_LONG
    assert render_template(text, FULL_CONTEXT).text == ""


def test_long_values_are_cut_and_output_is_bounded() -> None:
    huge = "x" * (MAX_VALUE_CHARS * 10)
    context = TemplateContext(contact=ContactFacts(custom={"blob": huge}))
    template = "{{ contact.custom.blob }}" * 700

    result = render_template(template, context)

    assert len(result.text) == MAX_OUTPUT_CHARS
    assert result.truncated
    assert not result.ok
    single = render_template("{{ contact.custom.blob }}", context)
    assert len(single.text) == MAX_VALUE_CHARS


@pytest.mark.parametrize("value", [None, {"nested": 1}, ["a"], float("nan"), 10**40, b"bytes"])
def test_non_plain_custom_values_are_missing(value: object) -> None:
    context = TemplateContext(contact=ContactFacts(custom={"thing": value}))

    result = render_template("[{{ contact.custom.thing }}]", context)

    assert result.text == "[]"
    assert result.missing == ("contact.custom.thing",)


def test_text_without_placeholders_is_left_alone() -> None:
    text = "Prices start at {5} and {percent}% — see <https://example.com/?a={b}>."

    assert validate_template(text) == []
    assert render_template(text, TemplateContext()).text == text


def test_parsed_template_lists_its_variables_once() -> None:
    parsed = parse_template(SEED_TEMPLATE + " {{ contact.first_name }}")

    assert parsed.variables == ("contact.first_name", "contact.custom.order_number")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Sarah", ("Sarah", None)),
        ("  Sarah   Jane Smith ", ("Sarah", "Jane Smith")),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_split_name(name: str | None, expected: tuple[str | None, str | None]) -> None:
    assert split_name(name) == expected
