-- A realistic binder written for the schema of revision 0009 (0008 with the text layers of
-- scans and the patients' settings, which this binder has none of: its files are a PDF with
-- words unread, a ZIP and a damaged PDF). The second patient holds one of each health fact.
--
-- tests/test_migrations.py creates a database at this revision, runs this script, upgrades
-- to head and reads everything back through the models. Every seed file writes the SAME
-- binder (see EXPECTED_* in the test), each in the schema of its own revision, so a new
-- revision needs only a new file: tests/migration_data/<revision>.sql.
--
-- Timestamps are naive UTC, as carebinder stores them on SQLite.

BEGIN;

INSERT INTO patient (id, name, born, mrn, phone, email, address, insurer, plan, member_id,
                     insurer_phone, created_at, updated_at)
VALUES
  (1, 'Ana Souza', '1964-04-12', 'MGH-0042117', '+1 617 555 0100', 'ana.souza@example.org',
   '12 Beacon Street' || char(10) || 'Boston, MA 02108', 'Blue Cross Blue Shield', 'PPO Gold',
   'XJH123456789', '+1 800 555 0199', '2026-01-05 09:00:00.000000', '2026-01-06 10:15:30.250000'),
  (2, 'Øyvind Nguyễn', '1950-01-02', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   '2026-01-07 08:00:00.000000', '2026-01-07 08:00:00.000000');

INSERT INTO doctor (id, patient_id, name, specialty, institution, role, phone, email, address,
                    npi, referred_by_id, notes, created_at, updated_at)
VALUES
  (1, 1, 'Dr. Maria Lopez', 'Medical oncology', 'Massachusetts General Hospital', 'diagnosing',
   '+1 617 555 0111', NULL, '55 Fruit Street, Boston', '1234567893', NULL, NULL,
   '2026-01-05 09:05:00.000000', '2026-01-05 09:05:00.000000'),
  (2, 1, 'Dr. Wei Chen', 'Surgical oncology', 'Dana-Farber Cancer Institute', 'second-opinion',
   NULL, 'wchen@example.org', NULL, NULL, 1, 'Referred by Dr. Lopez; bring the slides.',
   '2026-01-05 09:06:00.000000', '2026-01-05 09:06:00.000000'),
  (3, 2, 'Dr. Ingrid Berg', 'Hematology', 'Oslo University Hospital', 'treating',
   NULL, NULL, NULL, NULL, NULL, NULL,
   '2026-01-07 08:01:00.000000', '2026-01-07 08:01:00.000000');

INSERT INTO record (id, patient_id, kind, title, date, doctor_id, institution, notes,
                    created_at, updated_at)
VALUES
  (1, 1, 'pathology', 'Core biopsy pathology report', '2026-01-20', 1,
   'Massachusetts General Hospital', 'ER+/PR+/HER2-, Ki-67 20%',
   '2026-01-21 12:00:00.000000', '2026-01-21 12:00:00.000000'),
  (2, 1, 'imaging', 'PET-CT', '2026-01-28', NULL, 'MGH Imaging', NULL,
   '2026-01-29 12:00:00.000000', '2026-01-29 12:00:00.000000'),
  (3, 1, 'other', 'Insurance letter', NULL, NULL, NULL, NULL,
   '2026-01-30 12:00:00.000000', '2026-01-30 12:00:00.000000');

INSERT INTO file (id, record_id, original_name, media_type, size, page_count, sha256,
                  unreadable, created_at, updated_at)
VALUES
  (1, 1, 'biopsy-report.pdf', 'application/pdf', 69, 1,
   'b7842f5fdfe4aad45604bdb5abeea10b320c689aca9b2512c8f6f74cab13f1f4', NULL,
   '2026-01-21 12:00:01.000000', '2026-01-21 12:00:01.000000'),
  (2, 2, 'pet-ct disc.zip', 'application/zip', 22, NULL,
   'c0d4e9d65b6dbe17a7e24ebd999ab4e2f3f6b6797018fa23cec65dc464d71e92', NULL,
   '2026-01-29 12:00:01.000000', '2026-01-29 12:00:01.000000'),
  (3, 2, 'pet-ct report.pdf', 'application/pdf', 18, NULL,
   '07c5645f33693441592d266a8e0a5fde233d050bc7f6cd019a17e37e1486bf05',
   'the PDF is damaged (unexpected end of file)',
   '2026-01-29 12:00:02.000000', '2026-01-29 12:00:02.000000');

INSERT INTO opinion (id, patient_id, doctor_id, date, diagnosis, stage, plan, notes,
                     created_at, updated_at)
VALUES
  (1, 1, 1, '2026-01-25', 'Invasive ductal carcinoma, ER+/PR+/HER2-', 'IIA',
   'Lumpectomy, then radiation', NULL,
   '2026-01-25 18:00:00.000000', '2026-01-25 18:00:00.000000'),
  (2, 1, 2, '2026-02-10', 'Invasive ductal carcinoma, ER+/PR+/HER2-', 'IIB',
   'Neoadjuvant chemotherapy, then surgery', 'Wants a genomic test first.',
   '2026-02-10 18:00:00.000000', '2026-02-10 18:00:00.000000');

INSERT INTO opinion_record (opinion_id, record_id)
VALUES (1, 1), (2, 2), (2, 1);

INSERT INTO appointment (id, patient_id, doctor_id, starts_at, time_zone, location, purpose,
                         status, companion, notes, staff_told, records_sent_on, coverage,
                         coverage_ref, created_at, updated_at)
VALUES
  (1, 1, 2, '2026-03-10 14:30:00.000000', 'America/New_York',
   'Dana-Farber, 450 Brookline Ave, Boston', 'second-opinion', 'planned', 'João (husband)',
   'Arrive 30 minutes early.', 1, '2026-03-01', 'pre-auth-needed', 'PA-77821',
   '2026-02-12 09:00:00.000000', '2026-02-12 09:00:00.000000'),
  (2, 1, 1, '2025-12-15 09:00:00.000000', 'America/Los_Angeles', NULL, 'follow-up', 'done',
   NULL, NULL, 0, NULL, 'confirmed', NULL,
   '2025-12-01 09:00:00.000000', '2025-12-16 09:00:00.000000');

INSERT INTO appointment_record (appointment_id, record_id)
VALUES (1, 2), (1, 1);

INSERT INTO question (id, patient_id, appointment_id, text, answer, answered_by_id,
                      answered_on, created_at, updated_at)
VALUES
  (1, 1, 1, 'Would neoadjuvant chemotherapy change the surgery options?', NULL, NULL, NULL,
   '2026-02-12 09:10:00.000000', '2026-02-12 09:10:00.000000'),
  (2, 1, NULL, 'Is genomic testing (Oncotype DX) needed?', 'Yes, on the surgical specimen.', 1,
   '2026-01-25', '2026-01-22 09:10:00.000000', '2026-01-25 19:00:00.000000');

INSERT INTO material (id, patient_id, kind, description, institution, status, requested_on,
                      received_on, sent_on, returned_on, created_at, updated_at)
VALUES
  (1, 1, 'glass-slides', 'H&E slides from the core biopsy (6 slides)',
   'MGH Pathology', 'sent', '2026-02-01', '2026-02-05', '2026-02-20', NULL,
   '2026-02-01 09:00:00.000000', '2026-02-20 09:00:00.000000'),
  (2, 1, 'imaging-disc', 'PET-CT disc', 'MGH Imaging', 'requested', '2026-02-25', NULL, NULL,
   NULL, '2026-02-25 09:00:00.000000', '2026-02-25 09:00:00.000000');

INSERT INTO medication (id, patient_id, name, dose, how, kind, started, stopped, reason,
                        prescriber_id, notes, created_at, updated_at)
VALUES
  (1, 2, 'Omeprazole', '20 mg', 'by mouth, once a day', 'over-the-counter', '2025-06-01',
   '2025-09-01', 'Heartburn', 3, NULL,
   '2026-01-07 08:02:00.000000', '2026-01-07 08:02:00.000000');

UPDATE patient SET no_medications_on = '2026-01-07' WHERE id = 2;

INSERT INTO allergy (id, patient_id, substance, reaction, severity, kind, notes, created_at,
                     updated_at)
VALUES
  (1, 2, 'Penicillin', 'Hives', 'severe', 'medication', NULL,
   '2026-01-07 08:03:00.000000', '2026-01-07 08:03:00.000000');

INSERT INTO condition (id, patient_id, name, since, notes, created_at, updated_at)
VALUES
  (1, 2, 'Type 2 diabetes', '2015-03-01', 'Diet-controlled',
   '2026-01-07 08:04:00.000000', '2026-01-07 08:04:00.000000');

INSERT INTO treatment (id, patient_id, kind, name, started, ended, doctor_id, response, notes,
                       created_at, updated_at)
VALUES
  (1, 2, 'chemotherapy', 'R-CHOP, 6 cycles', '2025-10-01', '2026-01-05', 3,
   'Complete metabolic response', NULL,
   '2026-01-07 08:05:00.000000', '2026-01-07 08:05:00.000000');

INSERT INTO result (id, patient_id, name, value, unit, taken_on, interpretation, record_id,
                    notes, created_at, updated_at)
VALUES
  (1, 2, 'LDH', '310', 'U/L', '2025-09-20', 'high', NULL, NULL,
   '2026-01-07 08:06:00.000000', '2026-01-07 08:06:00.000000'),
  (2, 2, 'LDH', '190', 'U/L', '2026-01-04', 'normal', NULL, NULL,
   '2026-01-07 08:06:00.000000', '2026-01-07 08:06:00.000000');

INSERT INTO opinion (id, patient_id, doctor_id, date, diagnosis, stage, plan, notes,
                     site, laterality, histology, grade, t_category, n_category, m_category,
                     staging, ajcc_edition, ecog, created_at, updated_at)
VALUES
  (3, 2, 3, '2025-09-25', 'Diffuse large B-cell lymphoma', 'II', 'R-CHOP', NULL,
   'Lymph nodes of the neck', 'left', 'Diffuse large B-cell lymphoma', 'high grade', NULL,
   NULL, NULL, NULL, 8, 1,
   '2025-09-25 18:00:00.000000', '2025-09-25 18:00:00.000000'),
  (4, 2, 3, '2025-09-28', 'Breast, incidental', 'I', NULL, NULL,
   'Breast', 'right', 'Invasive ductal carcinoma', 'G1', 'T1c', 'N0', 'M0', 'pathologic', 8,
   NULL, '2025-09-28 18:00:00.000000', '2025-09-28 18:00:00.000000');

INSERT INTO audit_event (id, at, command, action, entity, entity_id, patient_id)
VALUES
  (1, '2026-01-05 09:00:00.000000', 'carebinder init', 'add', 'patient', 1, 1),
  (2, '2026-01-05 09:05:00.000000', 'carebinder doctor add', 'add', 'doctor', 1, 1);

COMMIT;
