"""Rubric loading, extends and validation errors that name file and line."""

from __future__ import annotations

import textwrap

import pytest

from cs_audit.rubric import RubricError, bundled_rubrics, load_rubric, locate_keys

CHECK = """
[checks.first_reply]
kind = "response"
title = "fast"
severity = "major"
points = 20
metric = "first_s"
max = 60
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(bundled_rubrics()))
def test_every_bundled_rubric_validates(name):
    rubric = load_rubric(name)
    assert rubric.checks
    assert all(check.why for check in rubric.checks), "every check explains itself"


def test_default_rubric_settings():
    rubric = load_rubric("default")
    assert rubric.name == "default"
    assert rubric.pass_score == 80
    assert rubric.service_hours_text == "08:00-23:00"
    assert rubric.slow_after_s == 180
    assert rubric.grade_for(95) == "A" and rubric.grade_for(80) == "B" and rubric.grade_for(3) == "F"


def test_extends_a_bundled_rubric_and_overrides_keys(tmp_path):
    path = write(tmp_path, "shop.toml", """
        name = "my-shop"
        extends = "default"
        pass_score = 70
        [response]
        slow_after_s = 120
        [checks.first_reply]
        max = 30
        [checks.closing]
        enabled = false
    """)
    rubric = load_rubric(str(path))
    base = load_rubric("default")
    assert rubric.name == "my-shop" and rubric.pass_score == 70
    assert rubric.slow_after_s == 120
    assert rubric.service_hours_text == "08:00-23:00"  # inherited
    checks = {c.id: c for c in rubric.checks}
    assert checks["first_reply"].params["max"] == 30
    assert checks["first_reply"].points == {c.id: c for c in base.checks}["first_reply"].points
    assert "closing" not in checks


def test_extends_a_path_relative_to_the_extending_file(tmp_path):
    write(tmp_path, "base.toml", 'name = "base"\n' + CHECK)
    child = write(tmp_path, "child.toml", 'name = "child"\nextends = "base.toml"\n')
    assert [c.id for c in load_rubric(str(child)).checks] == ["first_reply"]


def error_of(tmp_path, text, name="bad.toml"):
    path = write(tmp_path, name, text)
    with pytest.raises(RubricError) as caught:
        load_rubric(str(path))
    return caught.value, str(path)


def test_unknown_top_level_key_names_file_and_line(tmp_path):
    error, path = error_of(tmp_path, 'name = "x"\n\npass_scor = 80\n' + CHECK)
    assert str(error).startswith(f"{path}:3: unknown key 'pass_scor'")


def test_unknown_key_in_a_check_names_its_line(tmp_path):
    error, path = error_of(tmp_path, 'name = "x"\n' + CHECK + "maxx = 3\n")
    assert error.line == 10 and "unknown key 'maxx'" in str(error)


def test_wrong_type_names_its_line(tmp_path):
    error, _ = error_of(tmp_path, 'name = "x"\n' + CHECK.replace("points = 20", 'points = "twenty"'))
    assert error.line == 7 and "points must be a number" in str(error)


def test_boolean_is_not_a_number(tmp_path):
    error, _ = error_of(tmp_path, 'name = "x"\npass_score = true\n' + CHECK)
    assert error.line == 2


@pytest.mark.parametrize("text, line, words", [
    (CHECK.replace('"major"', '"huge"'), 6, "is not one of"),
    (CHECK.replace('"first_s"', '"fastest"'), 8, "is not one of"),
    (CHECK.replace('"response"', '"magic"'), 4, "unknown check kind 'magic'"),
    (CHECK.replace("max = 60", "max = -1"), 9, "at least 0"),
    (CHECK.replace("points = 20\n", ""), 3, "missing required key 'points'"),
    ('\n[response]\nservice_hours = "8-23"\n', 4, "service hours"),
    ('\n[kpis."taobao.fast"]\nwithin_s = 3\n', 3, "not a KPI id"),
    ('\n[kpis."jd.first_reply_30s_rate"]\nwithin = 3\n', 4, "unknown key 'within'"),
    ('\n[kpis."pdd.answer_30s_rate"]\nwindow = "8 to 23"\n', 3, "service hours"),
    ("\npass_score = 120\n", 3, "between 0 and 100"),
    ('\n[grades]\nA = 90\nB = 50\n', 3, "band starting at 0"),
    ('\n[checks.Bad-Id]\nkind = "response"\n', 3, "lower-case"),
])
def test_bad_values_name_the_line(tmp_path, text, line, words):
    error, _ = error_of(tmp_path, 'name = "x"\n' + text + ("" if "[checks." in text else CHECK))
    assert error.line == line, str(error)
    assert words in str(error)


def test_phrase_check_must_name_a_known_category(tmp_path):
    error, _ = error_of(tmp_path, '''name = "x"
[checks.hi]
kind = "phrase"
title = "t"
severity = "minor"
points = 1
mode = "require"
category = "tone.hello"
''')
    assert error.line == 8 and "tone.hello" in str(error)


def test_toml_syntax_error_names_the_line(tmp_path):
    error, path = error_of(tmp_path, 'name = "x"\n[response\nslow_after_s = 3\n')
    assert error.line == 2 and "invalid TOML" in str(error)


def test_error_in_an_extended_file_names_that_file(tmp_path):
    write(tmp_path, "base.toml", 'name = "base"\n' + CHECK.replace('"major"', '"bad"'))
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n')
    with pytest.raises(RubricError) as caught:
        load_rubric(str(child))
    assert caught.value.path.endswith("base.toml") and caught.value.line == 6


def test_override_error_names_the_overriding_file(tmp_path):
    child = write(tmp_path, "child.toml", 'extends = "default"\n[checks.first_reply]\nmax = "soon"\n')
    with pytest.raises(RubricError) as caught:
        load_rubric(str(child))
    assert caught.value.path == str(child) and caught.value.line == 3


def test_extends_loop_is_an_error(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(RubricError, match="loops back"):
        load_rubric(str(tmp_path / "a.toml"))


def test_extends_unknown_rubric_is_an_error_on_its_line(tmp_path):
    error, _ = error_of(tmp_path, 'name = "x"\n\nextends = "nope"\n')
    assert error.line == 3 and "neither a bundled rubric" in str(error)


def test_unknown_rubric_reference():
    with pytest.raises(FileNotFoundError):
        load_rubric("no-such-rubric")


def test_key_locator_skips_multiline_strings_and_handles_quoted_keys():
    text = 'why = """\nfake = 1\n"""\n[checks."odd.id"]\n"quoted key" = 2\n'
    lines = locate_keys(text)
    assert ("fake",) not in lines
    assert lines[("checks", "odd.id")] == 4
    assert lines[("checks", "odd.id", "quoted key")] == 5


@pytest.mark.parametrize(("value", "message"), [
    ("nan", "must be a finite number"), ("inf", "must be a finite number"),
    ("1e308", "must be at most 10000"),
])
def test_points_that_are_not_a_usable_number_are_errors(tmp_path, value, message):
    path = tmp_path / "r.toml"
    path.write_text(f'name = "x"\nextends = "default"\n[checks.greeting]\npoints = {value}\n',
                    encoding="utf-8")
    with pytest.raises(RubricError, match=rf"r.toml:4: checks.greeting.points {message}"):
        load_rubric(str(path))


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    error, path = error_of(tmp_path, 'name = "x"\npass_scor = 80\n' + CHECK.replace('"major"', '"huge"')
                           + "maxx = 3\n[response]\nslow_after = 3\n")
    found = [(problem.line, problem.message.split(";")[0]) for problem in error.problems]
    assert found == [
        (2, "unknown key 'pass_scor' in the rubric"),
        (7, "checks.first_reply.severity = 'huge' is not one of: critical, major, minor, info"),
        (11, "unknown key 'maxx' in check 'first_reply' (kind response)"),
        (13, "unknown key 'slow_after' in [response]"),
    ]
    assert all(problem.path == path for problem in error.problems)
    assert str(error).splitlines()[0] == f"{path}:2: " + error.problems[0].message


@pytest.mark.parametrize("text, line, suggestion", [
    ('pass_scor = 80\n' + CHECK, 2, "did you mean 'pass_score'?"),
    (CHECK + "metrc = 'first_s'\n", 10, "did you mean 'metric'?"),
    (CHECK.replace('"response"', '"respons"'), 4, "did you mean 'response'?"),
    (CHECK.replace('"major"', '"majr"'), 6, "did you mean 'major'?"),
    ('\n[kpis."taobao.reply_3min_rat"]\nwithin_s = 3\n' + CHECK, 3, "did you mean 'taobao.reply_3min_rate'?"),
])
def test_an_unknown_name_suggests_the_nearest_known_one(tmp_path, text, line, suggestion):
    error, _ = error_of(tmp_path, 'name = "x"\n' + text)
    assert error.line == line and str(error).endswith(suggestion), str(error)


def test_an_unknown_check_in_an_extending_rubric_suggests_the_inherited_one(tmp_path):
    error, _ = error_of(tmp_path, 'extends = "default"\n\n[checks.greting]\nenabled = false\n')
    assert error.line == 3
    assert "no check 'greting' is defined to override: did you mean 'greeting'?" in str(error)


def test_a_far_off_name_lists_what_is_known_instead(tmp_path):
    error, _ = error_of(tmp_path, 'name = "x"\nzzzzzz = 1\n' + CHECK)
    assert "did you mean" not in str(error) and "known: name, description" in str(error)


@pytest.mark.parametrize("grades", ["A = 80\nB = 90\nF = 0\n", "A = 90\nB = 90\nF = 0\n",
                                    "F = 0\nD = 60\nA = 90\n"])
def test_grade_bands_out_of_order_are_an_error(tmp_path, grades):
    error, _ = error_of(tmp_path, 'name = "x"\n' + CHECK + "[grades]\n" + grades)
    assert "grades out of order" in str(error) and "best first" in str(error)
    assert error.line == 12  # the first band listed after a band it should be below


def test_an_empty_rubric_is_an_error(tmp_path):
    error, path = error_of(tmp_path, "")
    assert str(error) == f"{path}:1: the rubric has no checks: add [checks.ID] tables, or extend " \
                         'a rubric that has them (extends = "default")'


def test_a_rubric_whose_checks_are_all_switched_off_is_an_error(tmp_path):
    error, _ = error_of(tmp_path, 'name = "x"\n' + CHECK + "enabled = false\n")
    assert "every check is switched off" in str(error)


def test_an_empty_rubric_is_reported_with_the_other_problems(tmp_path):
    error, _ = error_of(tmp_path, 'name = "x"\npass_score = 120\n')
    assert [problem.line for problem in error.problems] == [1, 2]


def test_problems_in_an_extended_file_come_before_those_of_the_extending_one(tmp_path):
    write(tmp_path, "base.toml", 'name = "base"\n' + CHECK.replace('"major"', '"bad"'))
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\npass_scor = 3\n')
    with pytest.raises(RubricError) as caught:
        load_rubric(str(child))
    assert [(p.path.rsplit("/", 1)[-1], p.line) for p in caught.value.problems] == [
        ("base.toml", 6), ("child.toml", 2)]
