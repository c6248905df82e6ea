-- The structured criteria of NCT07008872 written by hand in DuckDB SQL: the baseline that
-- bench_population.py times against the compiled rules. Same data ({root}: synthetic OMOP
-- Parquet), same as-of date ({as_of}), same reading of the criteria (latest record of each fact,
-- windows, ULN from the result else the site range, unknown when a value cannot be used).
-- Returns the funnel: (criterion, remaining) in protocol order.
CREATE MACRO within_days(d, w) AS d IS NOT NULL AND d <= DATE '{as_of}' AND d >= DATE '{as_of}' - w;
CREATE MACRO tri(ok, cond) AS CASE WHEN ok THEN cond END;
CREATE MACRO at_most(x, limit_) AS x <= limit_ + 1e-9 * abs(limit_);
CREATE MACRO above(x, limit_) AS x > limit_ + 1e-9 * abs(limit_);

WITH
concept AS (SELECT concept_id, vocabulary_id AS v, concept_code AS c FROM read_parquet('{root}/concept.parquet')),
fact_concept AS (
    SELECT concept_id, fact, w FROM (
        SELECT concept_id,
            CASE WHEN v = 'LOINC' AND c = '718-7' THEN 'hb'
                 WHEN v = 'LOINC' AND c IN ('2160-0', '38483-4', '14682-9') THEN 'creat'
                 WHEN v = 'LOINC' AND c IN ('1975-2', '14631-6') THEN 'bili'
                 WHEN v = 'LOINC' AND c = '1742-6' THEN 'alt'
                 WHEN v = 'LOINC' AND c = '1920-8' THEN 'ast'
                 WHEN v = 'LOINC' AND c IN ('59408-5', '2708-6') THEN 'spo2'
                 WHEN v = 'LOINC' AND c IN ('10230-1', '8806-2') THEN 'lvef'
                 WHEN v = 'LOINC' AND c = '89247-1' THEN 'ecog'
                 WHEN v = 'LOINC' AND c = '29615-2' THEN 'hbv'
                 WHEN v = 'LOINC' AND c = '16128-1' THEN 'hcvab'
                 WHEN v = 'LOINC' AND c = '11259-9' THEN 'hcvrna'
                 WHEN v = 'LOINC' AND c IN ('7917-8', '56888-1', '31201-7') THEN 'hiv'
                 WHEN v = 'LOINC' AND c IN ('20507-0', '22587-0', '5292-8') THEN 'syph'
                 WHEN v = 'LOINC' AND c IN ('2106-3', '2118-8') THEN 'preg'
                 WHEN v = 'celltrial' THEN c END AS fact,
            CASE WHEN v = 'LOINC' AND c IN ('10230-1', '8806-2', '29615-2', '16128-1', '11259-9', '7917-8',
                                            '56888-1', '31201-7', '20507-0', '22587-0', '5292-8') THEN 28
                 WHEN v = 'LOINC' AND c IN ('2106-3', '2118-8') THEN 7
                 WHEN v = 'LOINC' THEN 14
                 WHEN c IN ('diagnosis', 'prior-therapy-courses', 'induction-courses', 'prior-complete-remission') THEN 100000
                 ELSE 28 END AS w
        FROM concept) WHERE fact IS NOT NULL
),
answer AS (
    SELECT concept_id,
        CASE c WHEN '10828004' THEN 'positive' WHEN '260385009' THEN 'negative' WHEN '260373001' THEN 'detected'
               WHEN '260415000' THEN 'not_detected' WHEN 'LA9622-7' THEN '0' WHEN 'LA9623-5' THEN '1'
               WHEN 'LA9624-3' THEN '2' WHEN 'LA9625-0' THEN '3' WHEN 'LA9626-8' THEN '4' WHEN 'LA9627-6' THEN '5' END AS word
    FROM concept WHERE v IN ('SNOMED', 'LOINC')
),
record AS (
    SELECT m.person_id, f.fact, m.measurement_date AS d, m.value_as_number::DOUBLE AS x, m.value_as_concept_id AS a,
           NULL::VARCHAR AS s, coalesce(u.c, m.unit_source_value) AS unit, m.range_high::DOUBLE AS h,
           (date_diff('day', DATE '1970-01-01', m.measurement_date) + 50000) * 70368744177664 + m.measurement_id AS k
    FROM read_parquet('{root}/measurement/*.parquet') m
    JOIN fact_concept f ON f.concept_id = m.measurement_concept_id
    LEFT JOIN concept u ON u.concept_id = m.unit_concept_id AND u.v = 'UCUM'
    WHERE m.measurement_date >= DATE '{as_of}' - f.w
    UNION ALL
    SELECT o.person_id, f.fact, o.observation_date, o.value_as_number::DOUBLE, o.value_as_concept_id,
           o.value_as_string, o.unit_source_value, NULL,
           (date_diff('day', DATE '1970-01-01', o.observation_date) + 50000) * 70368744177664 + 35184372088832
               + o.observation_id
    FROM read_parquet('{root}/observation/*.parquet') o
    JOIN fact_concept f ON f.concept_id = o.observation_concept_id
    WHERE o.observation_date >= DATE '{as_of}' - f.w
),
latest AS (
    -- each person's latest record of each fact (one arg_max of the whole record)
    SELECT person_id, fact, l.d, l.x, l.word, l.a, l.s, l.unit, l.h FROM (
        SELECT r.person_id, r.fact,
               arg_max_null({'d': r.d, 'x': r.x, 'word': an.word, 'a': coalesce(r.a, 0), 's': lower(trim(r.s)),
                             'unit': r.unit, 'h': r.h}, r.k) AS l
        FROM record r LEFT JOIN answer an ON an.concept_id = r.a
        GROUP BY ALL)
),
lab AS (
    SELECT person_id,
        max(d) FILTER (fact = 'hb') AS hb_d, max(x) FILTER (fact = 'hb') AS hb_x, max(unit) FILTER (fact = 'hb') AS hb_u,
        max(d) FILTER (fact = 'creat') AS cr_d, max(x) FILTER (fact = 'creat') AS cr_x,
        max(unit) FILTER (fact = 'creat') AS cr_u, max(h) FILTER (fact = 'creat') AS cr_h,
        max(d) FILTER (fact = 'bili') AS bi_d, max(x) FILTER (fact = 'bili') AS bi_x,
        max(unit) FILTER (fact = 'bili') AS bi_u, max(h) FILTER (fact = 'bili') AS bi_h,
        max(d) FILTER (fact = 'alt') AS alt_d, max(x) FILTER (fact = 'alt') AS alt_x,
        max(unit) FILTER (fact = 'alt') AS alt_u, max(h) FILTER (fact = 'alt') AS alt_h,
        max(d) FILTER (fact = 'ast') AS ast_d, max(x) FILTER (fact = 'ast') AS ast_x,
        max(unit) FILTER (fact = 'ast') AS ast_u, max(h) FILTER (fact = 'ast') AS ast_h,
        max(d) FILTER (fact = 'spo2') AS sp_d, max(x) FILTER (fact = 'spo2') AS sp_x, max(unit) FILTER (fact = 'spo2') AS sp_u,
        max(d) FILTER (fact = 'lvef') AS ef_d, max(x) FILTER (fact = 'lvef') AS ef_x, max(unit) FILTER (fact = 'lvef') AS ef_u,
        max(d) FILTER (fact = 'ecog') AS ec_d,
        max(coalesce(x, try_cast(word AS DOUBLE))) FILTER (fact = 'ecog') AS ec_x,
        max(d) FILTER (fact = 'hbv') AS hbv_d, max(x) FILTER (fact = 'hbv') AS hbv_x, max(unit) FILTER (fact = 'hbv') AS hbv_u,
        max(d) FILTER (fact = 'hcvab') AS hab_d, max(CASE WHEN x IS NULL THEN word END) FILTER (fact = 'hcvab') AS hab_v,
        max(d) FILTER (fact = 'hcvrna') AS hrna_d,
        max(CASE WHEN x IS NULL THEN CASE word WHEN 'positive' THEN 'detected' WHEN 'negative' THEN 'not_detected'
            ELSE word END END) FILTER (fact = 'hcvrna') AS hrna_v,
        max(d) FILTER (fact = 'hiv') AS hiv_d, max(CASE WHEN x IS NULL THEN word END) FILTER (fact = 'hiv') AS hiv_v,
        max(d) FILTER (fact = 'syph') AS sy_d, max(CASE WHEN x IS NULL THEN word END) FILTER (fact = 'syph') AS sy_v,
        max(d) FILTER (fact = 'preg') AS pt_d, max(CASE WHEN x IS NULL THEN word END) FILTER (fact = 'preg') AS pt_v,
        max(d) FILTER (fact = 'diagnosis') AS dx_d, max(CASE WHEN x IS NULL THEN s END) FILTER (fact = 'diagnosis') AS dx_v,
        max(d) FILTER (fact = 'disease-status') AS ds_d,
        max(CASE WHEN x IS NULL THEN s END) FILTER (fact = 'disease-status') AS ds_v,
        max(d) FILTER (fact = 'prior-therapy-courses') AS pc_d, max(x) FILTER (fact = 'prior-therapy-courses') AS pc_x,
        max(d) FILTER (fact = 'induction-courses') AS ic_d, max(x) FILTER (fact = 'induction-courses') AS ic_x,
        max(d) FILTER (fact = 'prior-complete-remission') AS cr0_d,
        max(CASE WHEN x IS NULL THEN CASE s WHEN 'yes' THEN 'true' WHEN 'no' THEN 'false' END END)
            FILTER (fact = 'prior-complete-remission') AS cr0_v,
        max(d) FILTER (fact = 'bone-marrow-blasts') AS bm_d, max(x) FILTER (fact = 'bone-marrow-blasts') AS bm_x,
        max(unit) FILTER (fact = 'bone-marrow-blasts') AS bm_u,
        max(d) FILTER (fact = 'cd7-bone-marrow-flow') AS cd7_d,
        max(CASE WHEN x IS NULL THEN s END) FILTER (fact = 'cd7-bone-marrow-flow') AS cd7_v,
        max(d) FILTER (fact = 'peripheral-blood-tumor-cells') AS pb_d,
        max(x) FILTER (fact = 'peripheral-blood-tumor-cells') AS pb_x,
        max(unit) FILTER (fact = 'peripheral-blood-tumor-cells') AS pb_u,
        max(d) FILTER (fact = 'peripheral-blood-tumor-cd4-cd8-negative') AS neg_d,
        max(CASE WHEN x IS NULL THEN CASE s WHEN 'yes' THEN 'true' WHEN 'no' THEN 'false' END END)
            FILTER (fact = 'peripheral-blood-tumor-cd4-cd8-negative') AS neg_v
    FROM latest GROUP BY person_id
),
condition_record AS (
    SELECT c.person_id, CASE WHEN s.v = 'ICD10CM' THEN '363346000' ELSE s.c END AS code, c.condition_start_date AS d,
           c.condition_end_date IS NULL OR c.condition_end_date > DATE '{as_of}' AS active
    FROM read_parquet('{root}/condition_occurrence/*.parquet') c
    JOIN concept s ON (s.concept_id = c.condition_concept_id AND s.v = 'SNOMED')
        OR (s.concept_id = c.condition_source_concept_id AND s.v = 'ICD10CM'
            AND regexp_matches(replace(s.c, '.', ''), '^(C0|C1|C2|C3|C40|C41|C43|C45|C46|C47|C48|C49|C5|C6|C7|C80|C81|C82|C88|C90)')
            AND c.condition_concept_id NOT IN (SELECT concept_id FROM concept WHERE v = 'SNOMED' AND c IN
                ('49436004', '22298006', '373945007', '84114007', '234646005', '363346000', '254837009', '93761005',
                 '254637007', '254632001', '91302008', '85828009', '234532001', '86406008', '76272004', '84757009',
                 '432504007', '230690007', '274100004', '52448006', '77386006', '72892002')))
    WHERE s.v = 'ICD10CM' OR s.c IN ('49436004', '22298006', '373945007', '84114007', '234646005', '363346000', '254837009', '93761005',
                  '254637007', '254632001', '91302008', '85828009', '234532001', '86406008', '76272004', '84757009',
                  '432504007', '230690007', '274100004', '52448006', '77386006', '72892002')
),
condition AS (
    SELECT person_id,
        bool_or(d > DATE '{as_of}') FILTER (code = '49436004') AS af_future, bool_or(active) FILTER (code = '49436004') AS af,
        bool_or(d > DATE '{as_of}') FILTER (code = '22298006') AS mi_future,
        max(d) FILTER (code = '22298006') AS mi_last,
        bool_or(d > DATE '{as_of}') FILTER (code = '373945007') AS pe_future, bool_or(active) FILTER (code = '373945007') AS pe,
        bool_or(d > DATE '{as_of}') FILTER (code = '84114007') AS hf_future, bool_or(active) FILTER (code = '84114007') AS hf,
        bool_or(d > DATE '{as_of}') FILTER (code = '234646005') AS gvhd_future, bool_or(active) FILTER (code = '234646005') AS gvhd,
        bool_or(d > DATE '{as_of}') FILTER (code IN ('363346000', '254837009', '93761005', '254637007', '254632001')) AS ca_future,
        bool_or(active) FILTER (code IN ('363346000', '254837009', '93761005', '254637007', '254632001')) AS ca,
        bool_or(d > DATE '{as_of}') FILTER (code = '91302008') AS inf_future, bool_or(active) FILTER (code = '91302008') AS inf,
        bool_or(d > DATE '{as_of}') FILTER (code = '85828009') AS ai_future, bool_or(active) FILTER (code = '85828009') AS ai,
        bool_or(d > DATE '{as_of}') FILTER (code = '234532001') AS id_future, bool_or(true) FILTER (code = '234532001') AS id,
        bool_or(d > DATE '{as_of}') FILTER (code = '86406008') AS hivc_future, bool_or(true) FILTER (code = '86406008') AS hivc,
        bool_or(d > DATE '{as_of}') FILTER (code = '76272004') AS syc_future, bool_or(active) FILTER (code = '76272004') AS syc,
        bool_or(d > DATE '{as_of}') FILTER (code = '84757009') AS ep_future, bool_or(active) FILTER (code = '84757009') AS ep,
        bool_or(d > DATE '{as_of}') FILTER (code IN ('432504007', '230690007')) AS isch_future,
        bool_or(active) FILTER (code IN ('432504007', '230690007')) AS isch,
        bool_or(d > DATE '{as_of}') FILTER (code = '274100004') AS ich_future, bool_or(active) FILTER (code = '274100004') AS ich,
        bool_or(d > DATE '{as_of}') FILTER (code = '52448006') AS dem_future, bool_or(active) FILTER (code = '52448006') AS dem,
        bool_or(d > DATE '{as_of}') FILTER (code IN ('77386006', '72892002')) AS pg_future,
        bool_or(active) FILTER (code IN ('77386006', '72892002')) AS pg
    FROM condition_record GROUP BY person_id
),
person AS (
    SELECT p.person_id, p.gender_concept_id AS g, p.birth_datetime::DATE AS born, d.death_date
    FROM read_parquet('{root}/person/*.parquet') p
    LEFT JOIN (SELECT person_id, min(death_date) AS death_date FROM read_parquet('{root}/death/*.parquet') GROUP BY 1) d
        USING (person_id)
),
leaf AS (
    SELECT p.person_id,
        tri(within_days(dx_d, 100000) AND dx_v IN ('t_cell_lymphoma', 't_cell_acute_lymphoblastic_leukemia', 'acute_myeloid_leukemia', 'other'), dx_v = 't_cell_lymphoma') AS dx_tcl,
        tri(within_days(dx_d, 100000) AND dx_v IN ('t_cell_lymphoma', 't_cell_acute_lymphoblastic_leukemia', 'acute_myeloid_leukemia', 'other'), dx_v IN ('t_cell_acute_lymphoblastic_leukemia', 'acute_myeloid_leukemia')) AS dx_leuk,
        tri(within_days(ds_d, 28) AND ds_v IN ('relapsed', 'refractory', 'remission'), ds_v IN ('relapsed', 'refractory')) AS rr,
        tri(within_days(pc_d, 100000) AND pc_x >= 0 AND pc_x <= 100, pc_x >= 2) AS courses,
        tri(within_days(ic_d, 100000) AND ic_x >= 0 AND ic_x <= 100, ic_x >= 2) AS induction,
        tri(within_days(cr0_d, 100000) AND cr0_v IS NOT NULL, cr0_v = 'true') AS prior_cr,
        tri(within_days(bm_d, 28) AND bm_x >= 0 AND bm_x <= 100 AND bm_u = '%', bm_x > 5) AS marrow_blasts,
        tri(within_days(cd7_d, 28) AND cd7_v IN ('positive', 'negative'), cd7_v = 'positive') AS cd7,
        tri(within_days(pb_d, 28) AND pb_x >= 0 AND pb_x <= 100 AND pb_u = '%', pb_x <= 1) AS pb_low,
        tri(within_days(neg_d, 28) AND neg_v IS NOT NULL, neg_v = 'true') AS pb_negative,
        tri(within_days(ec_d, 14) AND ec_x >= 0 AND ec_x <= 5, ec_x <= 2) AS ecog,
        tri(p.born IS NOT NULL AND p.born <= DATE '{as_of}',
            date_diff('year', p.born, DATE '{as_of}') - (strftime(DATE '{as_of}', '%m%d') < strftime(p.born, '%m%d'))::INT BETWEEN 14 AND 75) AS age,
        tri(within_days(hb_d, 14) AND hb_x >= 0 AND hb_x <= 300 AND hb_u IN ('g/L', 'g/dL'), hb_x >= CASE hb_u WHEN 'g/L' THEN 70 ELSE 7 END - 1e-9) AS hb,
        tri(within_days(cr_d, 14) AND cr_x >= 0 AND cr_x <= 5000 AND (cr_h IS NOT NULL OR cr_u IN ('mg/dL', 'umol/L')),
            at_most(cr_x, coalesce(1.5 * cr_h, CASE cr_u WHEN 'mg/dL' THEN 1.65 ELSE 1.65 * 10000 / 113.12 END))) AS creat,
        tri(within_days(ef_d, 28) AND ef_x >= 0 AND ef_x <= 100 AND ef_u = '%', ef_x >= 50) AS lvef_ok,
        tri(within_days(sp_d, 14) AND sp_x >= 0 AND sp_x <= 100 AND sp_u = '%', sp_x > 90) AS spo2,
        tri(within_days(bi_d, 14) AND bi_x >= 0 AND bi_x <= 2000 AND (bi_h IS NOT NULL OR bi_u = 'mg/dL'), at_most(bi_x, coalesce(1.5 * bi_h, 1.8))) AS bili,
        tri(within_days(alt_d, 14) AND alt_x >= 0 AND alt_x <= 100000 AND (alt_h IS NOT NULL OR alt_u = 'U/L'), at_most(alt_x, coalesce(2.5 * alt_h, 100))) AS alt,
        tri(within_days(ast_d, 14) AND ast_x >= 0 AND ast_x <= 100000 AND (ast_h IS NOT NULL OR ast_u = 'U/L'), at_most(ast_x, coalesce(2.5 * ast_h, 100))) AS ast,
        tri(within_days(bi_d, 14) AND bi_x >= 0 AND bi_x <= 2000 AND (bi_h IS NOT NULL OR bi_u = 'mg/dL'), above(bi_x, coalesce(bi_h, 1.2)))
            OR tri(within_days(alt_d, 14) AND alt_x >= 0 AND alt_x <= 100000 AND (alt_h IS NOT NULL OR alt_u = 'U/L'), above(alt_x, coalesce(alt_h, 40)))
            OR tri(within_days(ast_d, 14) AND ast_x >= 0 AND ast_x <= 100000 AND (ast_h IS NOT NULL OR ast_u = 'U/L'), above(ast_x, coalesce(ast_h, 40))) AS liver_abnormal,
        tri(within_days(hbv_d, 28) AND hbv_x >= 0 AND hbv_u = '[IU]/mL', hbv_x >= 500) AS hbv,
        tri(within_days(hab_d, 28) AND hab_v IN ('positive', 'negative'), hab_v = 'positive') AS hcv_ab,
        tri(within_days(hrna_d, 28) AND hrna_v IN ('detected', 'not_detected'), hrna_v = 'detected') AS hcv_rna,
        tri(within_days(hiv_d, 28) AND hiv_v IN ('positive', 'negative'), hiv_v = 'positive') AS hiv_test,
        tri(within_days(sy_d, 28) AND sy_v IN ('positive', 'negative'), sy_v = 'positive') AS syph_test,
        tri(within_days(pt_d, 7) AND pt_v IN ('positive', 'negative'), pt_v = 'positive') AS preg_test,
        tri(ef_d IS NOT NULL AND within_days(ef_d, 28) AND ef_x >= 0 AND ef_x <= 100 AND ef_u = '%', ef_x < 50) AS lvef_low,
        CASE WHEN af_future THEN NULL ELSE coalesce(af, false) END AS af,
        CASE WHEN mi_future THEN NULL ELSE coalesce(mi_last >= DATE '{as_of}' - INTERVAL 12 MONTH, false) END AS mi,
        CASE WHEN pe_future THEN NULL ELSE coalesce(pe, false) END AS pe,
        CASE WHEN hf_future THEN NULL ELSE coalesce(hf, false) END AS hf,
        CASE WHEN gvhd_future THEN NULL ELSE coalesce(gvhd, false) END AS gvhd,
        CASE WHEN ca_future THEN NULL ELSE coalesce(ca, false) END AS ca,
        CASE WHEN inf_future THEN NULL ELSE coalesce(inf, false) END AS inf,
        CASE WHEN ai_future THEN NULL ELSE coalesce(ai, false) END AS ai,
        CASE WHEN id_future THEN NULL ELSE coalesce(id, false) END AS cid,
        CASE WHEN hivc_future THEN NULL ELSE coalesce(hivc, false) END AS hivc,
        CASE WHEN syc_future THEN NULL ELSE coalesce(syc, false) END AS syc,
        CASE WHEN ep_future THEN NULL ELSE coalesce(ep, false) END AS ep,
        CASE WHEN isch_future THEN NULL ELSE coalesce(isch, false) END AS isch,
        CASE WHEN ich_future THEN NULL ELSE coalesce(ich, false) END AS ich,
        CASE WHEN dem_future THEN NULL ELSE coalesce(dem, false) END AS dem,
        CASE WHEN pg_future THEN NULL ELSE coalesce(pg, false) END AS pg,
        CASE p.g WHEN 8532 THEN true WHEN 8507 THEN false END AS female
    FROM person p LEFT JOIN lab USING (person_id) LEFT JOIN condition USING (person_id)
    WHERE p.death_date IS NULL OR p.death_date > DATE '{as_of}'
),
criterion AS (
    SELECT person_id,
        (dx_tcl AND rr AND courses) OR (dx_leuk AND ((prior_cr AND (marrow_blasts OR NULL)) OR (NOT prior_cr AND induction))) AS i1,
        cd7 OR NULL AS i2,
        pb_low OR pb_negative AS i3,
        NULL::BOOLEAN AS i4,
        ecog AS i5,
        age AS i6,
        hb AS i7,
        creat AND lvef_ok AND spo2 AND bili AND alt AND ast AS i8,
        NULL::BOOLEAN AS i9,
        af OR mi OR NULL OR lvef_low OR pe OR (hf AND NULL) AS e1,
        gvhd AS e2,
        false AS e3,
        ca AS e4,
        inf AS e5,
        ai OR cid AS e6,
        (hbv AND liver_abnormal) OR (hcv_ab AND hcv_rna AND liver_abnormal) AS e7,
        hivc OR hiv_test OR syc OR syph_test AS e8,
        NULL::BOOLEAN AS e9,
        ep OR isch OR ich OR dem OR NULL AS e10,
        female AND (pg OR preg_test OR false OR NULL) AS e11,
        NULL::BOOLEAN AS e12
    FROM leaf
),
position AS (
    SELECT CASE WHEN i1 = false THEN 1 WHEN i2 = false THEN 2 WHEN i3 = false THEN 3 WHEN i4 = false THEN 4
                WHEN i5 = false THEN 5 WHEN i6 = false THEN 6 WHEN i7 = false THEN 7 WHEN i8 = false THEN 8
                WHEN i9 = false THEN 9 WHEN e1 THEN 10 WHEN e2 THEN 11 WHEN e3 THEN 12 WHEN e4 THEN 13 WHEN e5 THEN 14
                WHEN e6 THEN 15 WHEN e7 THEN 16 WHEN e8 THEN 17 WHEN e9 THEN 18 WHEN e10 THEN 19 WHEN e11 THEN 20
                WHEN e12 THEN 21 ELSE 22 END AS first_fail
    FROM criterion
)
SELECT s.name, coalesce(sum(c.n), 0)::BIGINT AS remaining
FROM (VALUES ('I1', 1), ('I2', 2), ('I3', 3), ('I4', 4), ('I5', 5), ('I6', 6), ('I7', 7), ('I8', 8), ('I9', 9),
             ('E1', 10), ('E2', 11), ('E3', 12), ('E4', 13), ('E5', 14), ('E6', 15), ('E7', 16), ('E8', 17),
             ('E9', 18), ('E10', 19), ('E11', 20), ('E12', 21)) AS s(name, step)
LEFT JOIN (SELECT first_fail, count(*) AS n FROM position GROUP BY 1) c ON c.first_fail > s.step
GROUP BY s.name, s.step
ORDER BY s.step;
