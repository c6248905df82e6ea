"""``celltrial calc``: body surface area, creatinine clearance, lymphodepletion and CAR-T dose."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer

from celltrial.clinical.bsa import BSA_SOURCES, BsaFormula, body_surface_area
from celltrial.clinical.dosing import (
    LymphodepletionRegimen,
    ProductBag,
    cart_dose,
    creatinine_clearance,
    lymphodepletion_doses,
)
from celltrial.errors import InvalidInput

calc_app = typer.Typer(help="Dosing calculators (each cites its source).", no_args_is_help=True)


@calc_app.command("bsa")
def bsa(
    height_cm: float = typer.Option(..., help="Height in cm."),
    weight_kg: float = typer.Option(..., help="Weight in kg."),
    formula: str = typer.Option("mosteller", help="mosteller (default) or dubois."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Body surface area in m² (4 decimals)."""
    value = body_surface_area(height_cm, weight_kg, formula)
    if as_json:
        chosen = BsaFormula(formula)
        typer.echo(
            json.dumps({"bsa_m2": round(value, 4), "formula": chosen.value, "source": BSA_SOURCES[chosen]})
        )
        return
    typer.echo(f"{value:.4f}")


def _sex(value: str) -> str:
    if value not in ("female", "male"):
        raise InvalidInput(f"must be female or male, got {value!r}", field="sex")
    return value


@calc_app.command("crcl")
def crcl(
    age_years: float = typer.Option(..., "--age", help="Age in years (adults)."),
    weight_kg: float = typer.Option(..., help="Weight in kg."),
    creatinine: float = typer.Option(..., help="Serum creatinine."),
    unit: str = typer.Option("mg/dL", "--unit", help="mg/dL or umol/L."),
    sex: str = typer.Option(..., help="female or male."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Creatinine clearance in mL/min by Cockcroft-Gault (1 decimal)."""
    value = creatinine_clearance(
        age_years=age_years,
        weight_kg=weight_kg,
        serum_creatinine=creatinine,
        creatinine_unit=unit,
        sex="female" if _sex(sex) == "female" else "male",
    )
    if as_json:
        typer.echo(
            json.dumps({"crcl_ml_min": round(value, 1), "source": "Cockcroft DW, Gault MH, Nephron 1976"})
        )
        return
    typer.echo(f"{value:.1f}")


@calc_app.command("lymphodepletion")
def lymphodepletion(
    bsa_m2: float = typer.Option(..., help="Body surface area in m²."),
    crcl_ml_min: float = typer.Option(..., help="Creatinine clearance in mL/min."),
    fludarabine: float = typer.Option(30.0, help="Fludarabine mg/m²/day."),
    cyclophosphamide: float = typer.Option(300.0, help="Cyclophosphamide mg/m²/day."),
    bsa_cap_m2: float | None = typer.Option(None, help="Cap the dosing BSA at this value (m²)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Fludarabine and cyclophosphamide mg/day on days -5 to -3."""
    regimen = LymphodepletionRegimen(
        fludarabine_mg_per_m2_per_day=fludarabine,
        cyclophosphamide_mg_per_m2_per_day=cyclophosphamide,
        bsa_cap_m2=bsa_cap_m2,
    )
    doses = lymphodepletion_doses(bsa_m2=bsa_m2, crcl_ml_min=crcl_ml_min, regimen=regimen)
    if as_json:
        typer.echo(json.dumps(asdict(doses)))
        return
    days = ", ".join(str(day) for day in doses.days)
    capped = f" (capped from {doses.bsa_m2:.2f})" if doses.bsa_capped else ""
    typer.echo(f"dosing BSA {doses.dosing_bsa_m2:.2f} m²{capped}; days {days}")
    typer.echo(
        f"fludarabine {doses.fludarabine_mg_per_day:.1f} mg/day ({doses.fludarabine_percent:g}% of full dose)"
    )
    typer.echo(f"cyclophosphamide {doses.cyclophosphamide_mg_per_day:.1f} mg/day")


@calc_app.command("cart-dose")
def cart(
    weight_kg: float = typer.Option(..., help="Weight in kg."),
    total_nucleated_cells: float = typer.Option(..., help="Total nucleated cells in the bag."),
    viability_percent: float = typer.Option(..., help="Viability (%)."),
    car_positive_percent: float = typer.Option(..., help="CAR+ cells (% of viable cells)."),
    bag_volume_ml: float = typer.Option(..., help="Bag volume (mL)."),
    target_per_kg: float = typer.Option(..., help="Target CAR+ viable cells per kg."),
    maximum_per_kg: float = typer.Option(..., help="Maximum CAR+ viable cells per kg."),
    volume_ml: float | None = typer.Option(
        None, help="Infuse this volume instead (checked against the maximum)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Volume to infuse (mL) for a target CAR+ viable cell dose per kg; above the maximum is refused."""
    bag = ProductBag(total_nucleated_cells, viability_percent, car_positive_percent, bag_volume_ml)
    dose = cart_dose(
        weight_kg=weight_kg,
        bag=bag,
        target_cells_per_kg=target_per_kg,
        maximum_cells_per_kg=maximum_per_kg,
        volume_ml=volume_ml,
    )
    if as_json:
        typer.echo(json.dumps(asdict(dose)))
        return
    note = " (whole bag, below target)" if dose.below_target else " (whole bag)" if dose.whole_bag else ""
    typer.echo(
        f"infuse {dose.volume_ml:.1f} mL{note}: {dose.cells_delivered:.3e} CAR+ viable cells, "
        f"{dose.cells_per_kg:.3e} cells/kg"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(calc_app, name="calc")
