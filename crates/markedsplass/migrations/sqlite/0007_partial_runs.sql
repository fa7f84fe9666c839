-- A vendor's re-run of one scenario of a submission: `scenario` names it. Such a run never counts
-- for a listing, the catalogue, the dashboard's latest result or a night's choice of submission.
ALTER TABLE runs ADD COLUMN scenario TEXT;
