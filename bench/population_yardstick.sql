-- The machine's yardstick from the population issue: "a hand-written DuckDB query of age plus the
-- lab criteria over 1M patients and 20M measurement rows takes about 1 s on this 2-core machine".
-- bench_population.py times it beside the funnel, so a figure can be read against the machine it
-- ran on. Age 14 to 75 on {as_of}; each lab's latest value within 14 days: hemoglobin >= 70 g/L
-- (g/dL x 10), creatinine and total bilirubin <= 1.5 x ULN, ALT and AST <= 2.5 x ULN (the ULN from
-- the result's range_high). Returns one row: the patients passing them all.
WITH lab AS (
    SELECT person_id, measurement_concept_id AS lab,
           arg_max(CASE unit_source_value WHEN 'g/dL' THEN value_as_number * 10 ELSE value_as_number END,
                   measurement_date) AS x,
           arg_max(range_high, measurement_date) AS uln
    FROM read_parquet('{root}/measurement/*.parquet')
    WHERE measurement_concept_id IN (3000963, 3016723, 3024128, 3006923, 3013721)
      AND measurement_date BETWEEN DATE '{as_of}' - 14 AND DATE '{as_of}'
    GROUP BY ALL
),
passing AS (
    SELECT person_id FROM lab
    GROUP BY person_id
    HAVING count(*) FILTER (
        (lab = 3000963 AND x >= 70) OR (lab IN (3016723, 3024128) AND x <= 1.5 * uln)
        OR (lab IN (3006923, 3013721) AND x <= 2.5 * uln)) = 5
)
SELECT 'yardstick', count(*)
FROM read_parquet('{root}/person/*.parquet') p JOIN passing USING (person_id)
WHERE date_sub('year', make_date(p.year_of_birth, p.month_of_birth, p.day_of_birth), DATE '{as_of}')
      BETWEEN 14 AND 75
