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
    error, path = error_of(tmp_path, 'name = "x"\n\npass_scor = 80\n')
    assert str(error).startswith(f"{path}:3: unknown key 'pass_scor'")


def test_unknown_key_in_a_check_names_its_line(tmp_path):
    error, path = error_of(tmp_path, 'name = "x"\n' + CHECK + "maxx = 3\n")
    assert error.line == 10 and "unknown key 'maxx'" in str(error)


def test_wrong_type_names_its_line(tmp_path):
    error, _ = error_of(tmp_path, 'name = "x"\n' + CHECK.replace("points = 20", 'points = "twenty"'))
    assert error.line == 7 and "points must be a number" in str(error)


def test_boolean_is_not_a_number(tmp_path):
    error, _ = error_of(tmp_path, 'name = "x"\npass_score = true\n')
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
    error, _ = error_of(tmp_path, 'name = "x"\n' + text)
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
