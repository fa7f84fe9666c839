-- What the public pages show of a run, stored when it finishes, so that a badge request never
-- reads or parses a report.
ALTER TABLE runs ADD COLUMN badge TEXT;               -- the badge SVG of a finished run
