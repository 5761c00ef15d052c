//! Reversible redaction of what must not leave the machine.
