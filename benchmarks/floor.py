"""The numpy floor: every methodology's avoided-emissions formula written out by hand in plain numpy.

Each function takes the methodology's inputs as float arrays in the units its YAML file declares
(``kWh/yr``, ``kg-CO2/kWh``, ``fraction`` …) and returns avoided kg-CO2e per functional unit per year.
Unit conversions are written as constants (a year is 8,760 h in every methodology; 1 GJ = 277.78 kWh;
1 TB = 1,000 GB). Nothing here is generated from koken's formulas: the benchmark checks that the two
agree to 1e-9, so this file is also an independent re-derivation of the 24 formulas.
"""

from __future__ import annotations

import numpy as np

HOURS_PER_YEAR = 8760.0
KWH_PER_GJ = 1e6 / 3600.0
KWH_PER_MJ = 1e3 / 3600.0
WEEKS_PER_YEAR = HOURS_PER_YEAR / 168.0


def _energy_difference(x):
    return (x["baseline_annual_energy"] - x["product_annual_energy"]) * x["grid_emission_factor"]


def _it_energy_difference(x):
    """IT equipment: N old devices replaced by one (baseline_units_per_product, default 1)."""
    units = x.get("baseline_units_per_product", 1.0)
    return (units * x["baseline_annual_energy"] - x["product_annual_energy"]) * x["grid_emission_factor"]


def home_appliances(x):
    electricity = (x["baseline_annual_energy"] - x["product_annual_energy"]) * x["grid_emission_factor"]
    return electricity + x["baseline_fuel_emissions"] - x["product_fuel_emissions"]


def _annual_hours(x):
    """The generation methodologies' hours of the year (parameter annual_hours, default 8,760 h/yr)."""
    return x.get("annual_hours", HOURS_PER_YEAR)


def _thermal(fuel_factor_kg_per_gj, x):
    yield_kwh = x["capacity_factor"] * _annual_hours(x)
    baseline = fuel_factor_kg_per_gj / KWH_PER_GJ / x["baseline_net_efficiency"]
    product = fuel_factor_kg_per_gj / KWH_PER_GJ / x["product_net_efficiency"]
    return yield_kwh * (baseline - product)


def _non_emitting(x):
    return x["capacity_factor"] * _annual_hours(x) * (x["grid_emission_factor"] - x["generation_emission_factor"])


def generation(x):
    hours = _annual_hours(x)
    return x["capacity_factor"] * hours * (x["baseline_emission_factor"] - x["generation_emission_factor"])


def energy_management(x):
    electricity = (x["baseline_period_electricity"] * x["baseline_adjustment_ratio"]
                   + x["baseline_nonroutine_adjustment"] - x["reporting_period_electricity"] - x["ems_own_electricity"])
    fuel = x["baseline_period_fuel"] * x["baseline_adjustment_ratio"] - x["reporting_period_fuel"]
    return (electricity * x["grid_emission_factor"] + fuel * x["site_fuel_emission_factor"]
            - x["ict_embodied_emissions"])


def heat_pump_water_heater(x):
    demand = x["annual_hot_water_heat_demand"]  # MJ/yr
    baseline = demand / x["baseline_water_heater_efficiency"] / 1000.0 * x["baseline_fuel_emission_factor"]
    product = demand * KWH_PER_MJ / x["heat_pump_apf"] * x["grid_emission_factor"]
    return baseline - product


def high_efficiency_motor(x):
    shaft = x["motor_rated_output"] * x["load_factor"] * x["annual_operating_hours"]
    return (shaft / x["baseline_motor_efficiency"] - shaft / x["product_motor_efficiency"]) * x["grid_emission_factor"]


def ict_solution(x):
    enabled = (x["travel_avoided"] * x["travel_emission_factor"] + x["paper_avoided"] * x["paper_emission_factor"]
               + x["freight_avoided"] * x["freight_emission_factor"]
               + x["office_space_avoided"] * x["office_emission_intensity"])
    footprint = x["ict_electricity"] * x["grid_emission_factor"] + x["ict_embodied_emissions"]
    return enabled - x["product_activity_emissions"] - footprint


def industrial_heat_pump(x):
    demand = x["annual_heat_demand"]  # GJ/yr
    share = x["baseline_gas_share"]
    fuel_factor = share * x["city_gas_emission_factor"] + (1.0 - share) * x["oil_emission_factor"]
    baseline = x["baseline_annual_energy"] * x["grid_emission_factor"] + demand / x["boiler_efficiency"] * fuel_factor
    product = demand * KWH_PER_GJ / x["heat_pump_cop"] * x["grid_emission_factor"] + x["product_fuel_emissions"]
    return baseline - product


def industrial_equipment(x):
    baseline = x["baseline_annual_energy"] * x["grid_emission_factor"] + x["baseline_fuel_emissions"]
    product = x["product_annual_energy"] * x["grid_emission_factor"] + x["product_fuel_emissions"]
    return baseline - product


def inverter_drive(x):
    rated = x["motor_input_power"] * x["annual_operating_hours"]
    baseline = rated * x["throttling_power_ratio"]
    product = rated * x["flow_ratio"] ** 3 / x["inverter_efficiency"]
    return (baseline - product) * x["grid_emission_factor"]


def led_lighting(x):
    saved_kwh = (x["baseline_luminaire_power"] - x["product_luminaire_power"]) * x["annual_lighting_hours"] / 1000.0
    return saved_kwh * x["grid_emission_factor"]


def led_lighting_years(x):
    return x["led_rated_life"] / x["annual_lighting_hours"]


def multifunction_printer(x):
    weeks = x["annual_operating_hours"] / x["hours_per_week"]
    return _it_energy_difference({**x, "baseline_annual_energy": x["baseline_tec"] * weeks,
                                  "product_annual_energy": x["product_tec"] * weeks})


def network_equipment(x):
    hours = x["annual_operating_hours"]
    return _it_energy_difference({
        **x, "baseline_annual_energy": x["baseline_power_per_throughput"] * x["throughput"] * hours / 1000.0,
        "product_annual_energy": x["product_power_per_throughput"] * x["throughput"] * hours / 1000.0})


def residential_fuel_cell(x):
    electricity = x["fuel_cell_annual_generation"] * x["grid_emission_factor"]
    heat = x["fuel_cell_recovered_heat"] / x["baseline_water_heater_efficiency"] / 1000.0 * x["city_gas_emission_factor"]
    gas = x["fuel_cell_gas_consumption"] * x["city_gas_heating_value"] / 1000.0 * x["city_gas_emission_factor"]
    return electricity + heat - gas


def server(x):
    product_kwh = x["product_average_power"] * x["annual_operating_hours"] / 1000.0
    baseline_kwh = product_kwh * x["product_performance_per_watt"] / x["baseline_performance_per_watt"]
    return _it_energy_difference({**x, "baseline_annual_energy": baseline_kwh, "product_annual_energy": product_kwh})


def solutions(x):
    footprint = x["ict_electricity"] * x["grid_emission_factor"] + x["ict_embodied_emissions"]
    return x["baseline_activity_emissions"] - x["product_activity_emissions"] - footprint


def storage(x):
    hours = x["annual_operating_hours"]
    per_tb = x["storage_capacity"] * 1000.0 * hours / 1000.0        # W/GB × TB × 1,000 GB/TB × h/yr ÷ 1,000 W/kW
    return _it_energy_difference({**x, "baseline_annual_energy": x["baseline_power_per_capacity"] * per_tb,
                                  "product_annual_energy": x["product_power_per_capacity"] * per_tb})


def transformer(x):
    baseline = x["baseline_no_load_loss"] + x["baseline_load_loss"] * x["baseline_load_factor"] ** 2
    product = x["product_no_load_loss"] + x["product_load_loss"] * x["product_load_factor"] ** 2
    return (baseline - product) * x["annual_operating_hours"] / 1000.0 * x["grid_emission_factor"]


AVOIDED_PER_UNIT_YEAR = {
    "client_pc": _it_energy_difference,
    "coal_fired_power": lambda x: _thermal(x["coal_emission_factor"], x),
    "energy_management": energy_management,
    "gas_combined_cycle": lambda x: _thermal(x["lng_emission_factor"], x),
    "generation": generation,
    "geothermal_power": _non_emitting,
    "heat_pump_water_heater": heat_pump_water_heater,
    "home_appliances": home_appliances,
    "high_efficiency_motor": high_efficiency_motor,
    "hydro_power": _non_emitting,
    "ict_solution": ict_solution,
    "industrial_equipment": industrial_equipment,
    "industrial_heat_pump": industrial_heat_pump,
    "inverter_drive": inverter_drive,
    "it_equipment": _it_energy_difference,
    "led_lighting": led_lighting,
    "multifunction_printer": multifunction_printer,
    "network_equipment": network_equipment,
    "nuclear_power": _non_emitting,
    "refrigerator": _energy_difference,
    "residential_fuel_cell": residential_fuel_cell,
    "room_air_conditioner": _energy_difference,
    "server": server,
    "solar_pv": _non_emitting,
    "solutions": solutions,
    "storage": storage,
    "television": _energy_difference,
    "transformer": transformer,
    "wind_power": _non_emitting,
}
"""Methodology id → hand-written avoided kg-CO2e per functional unit per year."""


def contributions(methodology: str, x: dict[str, np.ndarray], units_shipped: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(single-year, lifetime) t-CO2e per row: avoided × units shipped × (1 year | operating years) / 1000."""
    avoided = AVOIDED_PER_UNIT_YEAR[methodology](x)
    years = led_lighting_years(x) if methodology == "led_lighting" else x["operating_years"]
    single = avoided * units_shipped / 1000.0
    return single, single * years
