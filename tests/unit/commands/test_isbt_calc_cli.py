"""``celltrial isbt`` and ``celltrial calc`` from the command line."""

from __future__ import annotations

import json

import pytest

from celltrial.cli import main


def test_check_char_prints_H_for_the_red_book_din(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["isbt", "check-char", "G123498654321"]) == 0
    assert capsys.readouterr().out == "H\n"


@pytest.mark.parametrize(
    ("din", "problem"),
    [
        pytest.param("G12349865432", "has 12 characters", id="wrong-length"),
        pytest.param("g123498654321", "lowercase", id="lowercase"),
        pytest.param("G1234986543#1", "'#' at position 12", id="invalid-character"),
    ],
)
def test_a_bad_din_is_one_line_on_stderr_and_exit_code_2(
    capsys: pytest.CaptureFixture[str], din: str, problem: str
) -> None:
    assert main(["isbt", "check-char", din]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert problem in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err


def test_din_prints_the_full_eye_readable_din(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["isbt", "din", "--facility", "A9999", "--year", "14", "--sequence", "123456"]) == 0
    assert capsys.readouterr().out == "A9999 14 123456 00 [N]\n"


def test_din_json_holds_every_form(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["isbt", "din", "--facility", "G1234", "--year", "98", "--sequence", "654321", "--flags", "77"]
    assert main([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["keyboard_entry"] == "G123498654321H"
    assert printed["data_content"] == "=G12349865432177"
    assert printed["flags"] == "77"


def test_din_with_a_bad_facility_exits_2_naming_the_facility(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["isbt", "din", "--facility", "O1234", "--year", "26", "--sequence", "1"]) == 2
    assert "facility" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("formula", "printed"),
    [
        pytest.param([], "1.8181", id="mosteller-default"),  # √(170 × 70 / 3600) = 1.8181
        pytest.param(["--formula", "dubois"], "1.8097", id="dubois"),  # 0.007184 × 70^0.425 × 170^0.725
    ],
)
def test_calc_bsa_prints_square_metres_to_4_decimals(
    capsys: pytest.CaptureFixture[str], formula: list[str], printed: str
) -> None:
    assert main(["calc", "bsa", "--height-cm", "170", "--weight-kg", "70", *formula]) == 0
    assert capsys.readouterr().out == f"{printed}\n"


def test_calc_bsa_json_names_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calc", "bsa", "--height-cm", "180", "--weight-kg", "80", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {
        "bsa_m2": 2.0,
        "formula": "mosteller",
        "source": "Mosteller RD, N Engl J Med 1987;317:1098",
    }


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        pytest.param(["--height-cm", "0", "--weight-kg", "70"], "height_cm", id="zero-height"),
        pytest.param(["--height-cm", "170", "--weight-kg", "70000"], "weight_kg", id="grams"),
        pytest.param(
            ["--height-cm", "170", "--weight-kg", "70", "--formula", "boyd"], "formula", id="formula"
        ),
    ],
)
def test_calc_bsa_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], problem: str
) -> None:
    assert main(["calc", "bsa", *argv]) == 2
    assert problem in capsys.readouterr().err


def test_calc_crcl_converts_micromoles(capsys: pytest.CaptureFixture[str]) -> None:
    # man, 40 y, 72 kg, 88.4 µmol/L ≈ 1.0 mg/dL: (140 − 40) × 72 / 72 = 100.0 mL/min
    argv = ["calc", "crcl", "--age", "40", "--weight-kg", "72", "--creatinine", "88.4", "--unit", "µmol/L"]
    assert main([*argv, "--sex", "male"]) == 0
    assert capsys.readouterr().out == "100.0\n"
    assert main([*argv, "--sex", "female", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["crcl_ml_min"] == 85.0


def test_calc_lymphodepletion_caps_bsa_and_reduces_fludarabine(capsys: pytest.CaptureFixture[str]) -> None:
    # BSA 2.3 capped at 2.0; CrCl 50 → fludarabine 30 × 2.0 × 0.8 = 48 mg/day; Cy 300 × 2.0 = 600 mg/day
    argv = [
        "calc",
        "lymphodepletion",
        "--bsa-m2",
        "2.3",
        "--crcl-ml-min",
        "50",
        "--bsa-cap-m2",
        "2.0",
        "--json",
    ]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["fludarabine_mg_per_day"] == pytest.approx(48.0)
    assert printed["cyclophosphamide_mg_per_day"] == pytest.approx(600.0)
    assert printed["bsa_capped"] is True


def test_calc_lymphodepletion_refuses_fludarabine_below_30_ml_per_min(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["calc", "lymphodepletion", "--bsa-m2", "1.8", "--crcl-ml-min", "25"]) == 2
    assert "not to be given" in capsys.readouterr().err


CART = [
    "calc",
    "cart-dose",
    "--weight-kg",
    "70",
    "--total-nucleated-cells",
    "5e8",
    "--viability-percent",
    "90",
    "--car-positive-percent",
    "40",
    "--bag-volume-ml",
    "50",
    "--target-per-kg",
    "1e6",
    "--maximum-per-kg",
    "2e6",
]


def test_calc_cart_dose_gives_the_volume_to_infuse(capsys: pytest.CaptureFixture[str]) -> None:
    # 1.8e8 CAR+ viable cells in 50 mL = 3.6e6/mL; 7e7 needed → 19.44 mL → 19.4 mL
    assert main([*CART, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["volume_ml"] == pytest.approx(19.4)
    assert printed["cells_delivered"] == pytest.approx(6.984e7)


def test_calc_cart_dose_refuses_a_volume_above_the_maximum(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*CART, "--volume-ml", "50"]) == 2
    err = capsys.readouterr().err
    assert "2.57e+06 cells/kg" in err
    assert "above the maximum 2e+06" in err
