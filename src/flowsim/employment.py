"""Employment: who employs a researcher, and the employers' staff counts (a shared tool).

Job moves (:mod:`~flowsim.mechanisms.talent`), firm failures
(:mod:`~flowsim.mechanisms.capital`) and the initial draw (:mod:`flowsim.setup`)
use these functions on a :class:`~flowsim.world.World`; this module imports no
mechanism. Employer kinds: :data:`LAB` (0) and :data:`FIRM` (1), as in the
researchers' ``employer_kind`` column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.geography import CITIES
from flowsim.pools import Pools, in_background, keys_where

if TYPE_CHECKING:
    from flowsim.world import World

LAB, FIRM = 0, 1


def pick_employers(
    world: World,
    city: np.ndarray,
    field: np.ndarray,
    rng: np.random.Generator,
    firms_only: bool = False,
    pools: tuple[Pools, Pools, Pools, Pools] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A new employer in each city: a lab with the city's public-research share, else a firm.

    The employer works in the researcher's field where the city has one (labs by
    budget, firms by size), else any employer of that kind in the city. With
    ``firms_only`` (researchers of a failed firm) the employer is another firm, so
    that failures do not shift researchers from industry into labs; a lab only where
    the city has no firm left. Returns (employer kind, employer row or -1 if the city
    has none, employer zone). ``pools`` replaces the world's employer pools (labs by
    city and field, firms by city and field, labs by city, firms by city): talent's
    pools of employers with an open post.
    """
    lab_pools, firm_pools, lab_city_pools, firm_city_pools = pools or (
        world.lab_pools,
        world.firm_pools,
        world.lab_city_pools,
        world.firm_city_pools,
    )
    city = np.asarray(city, dtype=np.int64)
    field = np.asarray(field, dtype=np.int64)
    n = city.size
    lab_share = 0.0 if firms_only else world.public_share[np.maximum(city, 0)]
    kind = np.where(rng.random(n) < lab_share, LAB, FIRM)
    key = np.maximum(city, 0) * world.n_fields + field
    employer = np.full(n, -1, dtype=np.int64)
    lab = kind == LAB
    employer[lab] = lab_pools.sample(key[lab], rng)
    employer[~lab] = firm_pools.sample(key[~lab], rng)
    # no employer of the field: any of the kind in the city, then the other kind
    for by_city, want in ((lab_city_pools, LAB), (firm_city_pools, FIRM)):
        m = (kind == want) & (employer < 0)
        employer[m] = by_city.sample(city[m], rng)
    missing_lab = lab & (employer < 0)
    employer[missing_lab] = firm_city_pools.sample(city[missing_lab], rng)
    kind[missing_lab] = FIRM
    missing_firm = ~lab & (employer < 0)
    employer[missing_firm] = lab_city_pools.sample(city[missing_firm], rng)
    kind[missing_firm] = LAB
    employer[city < 0] = -1
    zone = np.full(n, -1, dtype=np.int64)
    ok = employer >= 0
    zone[ok & (kind == LAB)] = world.labs.zone[employer[ok & (kind == LAB)]]
    zone[ok & (kind == FIRM)] = world.firms.zone[employer[ok & (kind == FIRM)]]
    return kind, employer, zone


def pick_in_city(
    world: World,
    city: np.ndarray,
    rng: np.random.Generator,
    pools: tuple[Pools, Pools] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """An employer of any field in each city, for a researcher new to the region.

    A lab with the city's public-research share (labs by budget), else a firm (living
    firms by size); the other kind where the city has none of the one drawn; -1 where it
    has neither. ``pools`` (labs by city, firms by city) replaces the world's: talent's
    pools of employers with an open post. Returns (employer kind, employer row or -1).
    """
    lab_city, firm_city = pools or (world.lab_city_pools, world.firm_city_pools)
    n = city.size
    kind = np.where(rng.random(n) < world.public_share[city], LAB, FIRM)
    employer = np.full(n, -1, dtype=np.int64)
    lab = kind == LAB
    employer[lab] = lab_city.sample(city[lab], rng)
    employer[~lab] = firm_city.sample(city[~lab], rng)
    for by_city, want, other in ((firm_city, LAB, FIRM), (lab_city, FIRM, LAB)):
        m = (kind == want) & (employer < 0)
        employer[m] = by_city.sample(city[m], rng)
        kind[m & (employer >= 0)] = other
    return kind, employer


def employer_field_zone(
    world: World, kind: np.ndarray, employer: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The field (a lab's field, a firm's sector) and zone of each employer (all valid rows)."""
    L, F = world.labs, world.firms
    is_lab = kind == LAB
    lab_row, firm_row = np.where(is_lab, employer, 0), np.where(is_lab, 0, employer)
    field = np.where(is_lab, L.field[lab_row], F.sector[firm_row])
    zone = np.where(is_lab, L.zone[lab_row], F.zone[firm_row])
    return field, zone


def add_staff(world: World, kind: np.ndarray, employer: np.ndarray) -> None:
    """Count researchers joining employers."""
    world.labs.staff[:] += np.bincount(employer[kind == LAB], minlength=world.labs.n).astype(
        np.int32
    )
    world.firms.staff[:] += np.bincount(employer[kind == FIRM], minlength=world.firms.n).astype(
        np.int32
    )


def remove_staff(world: World, kind: np.ndarray, employer: np.ndarray) -> None:
    """Count researchers leaving employers."""
    world.labs.staff[:] -= np.bincount(employer[kind == LAB], minlength=world.labs.n).astype(
        np.int32
    )
    world.firms.staff[:] -= np.bincount(employer[kind == FIRM], minlength=world.firms.n).astype(
        np.int32
    )


def orphan_rows(
    staffed: np.ndarray, employer: np.ndarray, employer_kind: np.ndarray, away: np.ndarray
) -> np.ndarray:
    """Rows of the researchers here whose employer is a firm marked in ``staffed`` (pure).

    ``away`` (sorted) are the rows of researchers away from the region, employed by nobody
    here. One pass over the employer column; the few rows found are then checked.
    """
    # take() gathers from the 32-bit employer column faster than fancy indexing
    orphan = np.flatnonzero(staffed.take(employer))
    orphan = orphan[employer_kind[orphan] == FIRM]
    if away.size and orphan.size:
        at = np.minimum(np.searchsorted(away, orphan), away.size - 1)
        orphan = orphan[away[at] != orphan]
    return orphan


def rehome_researchers(world: World, rng: np.random.Generator) -> None:
    """Researchers of failed firms (or heading to one) join another firm in their city."""
    R, F = world.researchers, world.firms
    # staff counts tell, without a scan, which failed firms still have researchers: every
    # researcher here counts in its employer's staff (those away count nowhere); their
    # researchers are found on a helper thread while the firms' pools are rebuilt
    staffed = ~F.alive & (F.staff > 0)
    scan = None
    if staffed.any():
        scan = in_background(orphan_rows, staffed, R.employer, R.employer_kind, world.away_rows)
    size = F.staff.astype(np.float64) + 1.0
    world.firm_city_pools = Pools(keys_where(F.alive, F.city), len(CITIES), weights=size)
    nf = world.n_fields
    key = keys_where(F.alive, F.city.astype(np.int16) * np.int16(nf) + F.sector, np.int16)
    world.firm_pools = Pools(key, len(CITIES) * nf, weights=size)
    orphan = np.zeros(0, dtype=np.int64) if scan is None else scan.result()
    if orphan.size:
        remove_staff(world, R.employer_kind[orphan], R.employer[orphan])
        kind, employer, zone = pick_employers(
            world, R.city[orphan], R.field[orphan], rng, firms_only=True
        )
        # nowhere to go in the city (tiny scales): stay with the failed firm's row
        stay = employer < 0
        kind[stay], employer[stay] = FIRM, R.employer[orphan[stay]]
        zone[stay] = R.zone[orphan[stay]]
        R.employer_kind[orphan] = kind
        R.employer[orphan] = employer
        R.zone[orphan] = zone
        add_staff(world, kind, employer)
    pending = np.sort(world.pending_moves)
    pending = pending[R.dest_employer_kind[pending] == FIRM]
    pending = pending[~F.alive[R.dest_employer[pending]]]
    if pending.size:
        kind, employer, zone = pick_employers(
            world, R.dest_city[pending], R.field[pending], rng, firms_only=True
        )
        ok = employer >= 0
        R.dest_employer_kind[pending[ok]] = kind[ok]
        R.dest_employer[pending[ok]] = employer[ok]
        R.dest_zone[pending[ok]] = zone[ok]
