//! Audit events: reading every real AppArmor log source and grouping events.
