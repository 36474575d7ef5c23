"""Cases from the public EventBridge cron validators: grumBit/aws_cron_expression_validator
(Python; its author checked some rules on the EventBridge console, see its issue #18),
aws-croniter's copy of its field rules, and gharibyan/aws-cron-expression-validator (JS).

Their per-field regex cases are set into an otherwise valid expression (``field_cases``).
"""

from __future__ import annotations

from tests.unit.cron_cases import Case, Invalid, Valid, field_cases
from tests.unit.cron_cases.aws_croniter import L_DASH_WEEKDAY

GRUMBIT = (
    "grumBit/aws_cron_expression_validator tests/aws_cron_expression_validator/test_validator.py"
)
CRONITER = "siddarth-patil/aws-croniter tests/test_utils.py"
GHARIBYAN = "gharibyan/aws-cron-expression-validator test/validator.test.js"

STAR_RANGE = (
    "'*-MAR' matches the validators' range pattern, but neither AWS's docs nor Quartz define "
    "a range from * (Quartz reads * and drops the rest): refused"
)
STEP_ZERO = (
    "a step of 0: grumBit's validator and kushagarr/aws-eventbridge-cron refuse it, as this "
    "project always has; only aws-croniter's slash pattern allows it"
)
STEP_OVER = (
    "Quartz refuses an increment past the field (checkIncrementRange; its CronExpressionTest "
    "expects 'Increment > 60 : 120'), and so does aws-croniter ('5/155' invalid)"
)
L_OFFSET = (
    "L-n in day-of-month is Quartz's offset from the last day, which aws-cron-parser, pyawscron "
    "and aws-croniter all evaluate; only this validator refuses it"
)

_FIELDS = {
    1: (["*", "0", "1", "01", "10", "59"], ["60", "600", "-1", "", "?", "L", "W", "#"]),
    2: (["*", "0", "1", "01", "10", "23"], ["24", "600", "001", "-1", "?", "L", "W", "#"]),
    3: (
        ["*", "1", "01", "10", "23", "31", "?", "L", "1W", "31W", "11W", "LW"],
        ["0", "32", "600", "-1", "?10", "8?", "8L", "8-L", "L8", "W", "8-W", "-1W", "/8W",
         "*/8W", "?W", "", "#"],
    ),
    4: (
        ["*", "1", "01", "10", "12", "JAN", "feb", "DeC", "JAN-MAR", "02-MAR", "*-MAR", "FEB/2"],
        ["0", "13", "600", "-1", "XZY", "JANUARY", "", "2/FEB", "?", "L", "W", "#"],
    ),
    5: (
        ["*", "1", "5", "7", "MON", "?", "L", "5L", "monL", "3#2", "MON-FRI", "L-1", "L-7"],
        ["Monday", "0", "01", "8", "?5", "5?", "5-L", "L-0", "L-8", "L-", "L5", "#", "0#2",
         "8#2", "600#2", "-1#2", "3#0", "3#6", "3#600", "3#-1", "3#", "#2", "3-#2", "2/MON",
         "/3#2", "*/3#2", "3#2,5#3", "3#2-4#2", "", "W"],
    ),
    6: (
        ["*", "1970", "2199", "2022", "1992"],
        ["1969", "2200", "2222", "1111", "20221", "0", "1", "", "*1970", "19*70", "?", "L", "W",
         "#"],
    ),
}  # fmt: skip
_DIFFERS = {"*-MAR": STAR_RANGE, "L-1": L_DASH_WEEKDAY, "L-7": L_DASH_WEEKDAY}

# The minutes-field slash patterns ("1", a plain value, is only outside that pattern).
_SLASH_VALID = ["*/10", "1/10", "0/05", "0/15", "0/30", "55/1", "1-7/2"]
_SLASH_INVALID = ["/", "0/", "01/", "/10", "*/", "*/-1", "*1/10", "5/*10", "5/10*", "5/asdf",
                  "5/*asdf", "5/asdf*"]  # fmt: skip

_EXPRESSIONS_VALID = [
    "0 18 ? * MON-FRI *", "0 18 ? * L *", "0 18 ? * SATL *", "0 18 L * ? *", "0 18 31W * ? *",
    "0 10 * * ? *", "15 12 * * ? *", "0 8 1 * ? *", "1/5 8-17 ? * Mon-Fri *", "0 9 ? * 2#1 *",
    "0 07/12 ? * * *", "10,20,30,40 07/12 ? * * *", "10 10,15,20,23 ? * * *",
    "10 10 15,30,31 * ? *", "10 10 15 JAN,JUL,DEC ? *", "10 10 31 04,09,12 ? *",
    "0,5 07/12 ? * 1,5,7 *", "0,5 07/12 ? * 1,5,7 2020,2021,2028,2199",
    "0,5 07/12 ? * 1,5,7 2020-2021,2028-2199", "0,5 07/12 ? * 1,5,7 2000-2199",
    "0 9-5 ? * MON-FRI *", "30 0 ? * MON *", "30 7 ? * MON#1 *", "30 0 1 JAN,APR,JUL,OCT ? *",
    "0 10 * * ? *", "5 12 * * ? *", "0 18 ? * MON-FRI *", "0 8 1 * ? *", "0/15 * * * ? *",
    "0/10 * ? * MON-FRI *", "0/5 8-17 ? * MON-FRI *", "0 11-23/2 * * ? *",
    "0 11-23/4 ? * 2-6 *", "0 11-23/2 * * ? *", "0 0 1 1-12/3 ? *", "0 1-7/2,11-23/2 * * ? *",
    "0 1-7/2,11-23/2,10 * * ? *", "30 0 1 JAN-APR,JUL-OCT/2,DEC ? *", "15 10 ? * L 2019-2022",
    "15 10 ? * 6L 2019-2022", "15 10 ? * FRIL 2019-2022",
]  # fmt: skip
_EXPRESSIONS_INVALID = [
    ("0 18 ? * MON-FRI", None), ("0 18 * * * *", None), ("89 10 * * ? *", 1),
    ("65/15 10 * * ? *", 1), ("0 65 * * ? *", 2), ("0 18 32W * ? *", 3), ("0 18 W * ? *", 3),
    ("10 10 31 04,09,13 ? *", 4), ("0 9 ? * 2#6 *", 5), ("0,5 07/12 ? * 01,05,8 *", 5),
    ("0,5 07/12 ? * 1 2000-2200", 6), ("15/30 10 * * ? 2400", 6), ("0 9 ? * ? *", None),
    ("0 18 3L * ? *", 3), ("0 1-7/2,11-23/2, * * ? *", 2),
]  # fmt: skip


def _library(
    source: str,
    fields: dict[int, tuple[list[str], list[str]]],
    slash_valid: list[str],
    differs: dict[str, str],
) -> list[Case]:
    cases: list[Case] = []
    for field, (valid, invalid) in fields.items():
        cases += field_cases(source, field, valid, invalid, differs)
    cases += field_cases(source, 1, slash_valid, _SLASH_INVALID, differs)
    return cases


# aws-croniter's copy adds "abcd" to the minutes' invalid values, drops "2/FEB" from the
# months', and lets its slash pattern take "5/0".
_CRONITER_FIELDS = {
    **_FIELDS,
    1: (_FIELDS[1][0], [*_FIELDS[1][1], "abcd"]),
    4: (_FIELDS[4][0], [value for value in _FIELDS[4][1] if value != "2/FEB"]),
}


CASES: list[Case] = [
    *_library(GRUMBIT, _FIELDS, _SLASH_VALID, _DIFFERS),
    *(Valid(GRUMBIT, text) for text in _EXPRESSIONS_VALID),
    Invalid(GRUMBIT, "15/65 10 * * ? *", 1, differs=STEP_OVER),
    Invalid(GRUMBIT, "15 10 ? * L-2 2019-2022", 5, differs=L_DASH_WEEKDAY),
    *(Invalid(GRUMBIT, text, field) for text, field in _EXPRESSIONS_INVALID),
    Valid(GRUMBIT, "0 18 L-3 * ? *", differs=L_OFFSET),
    *_library(CRONITER, _CRONITER_FIELDS, [*_SLASH_VALID, "5/0"], {**_DIFFERS, "5/0": STEP_ZERO}),
    Valid(GHARIBYAN, "0 12 ? * MON-FRI *"),
    Invalid(GHARIBYAN, "0 * * * MON-FRI *", None),
    Invalid(GHARIBYAN, "0 * ? * MON-FRI 1969", 6),
]
