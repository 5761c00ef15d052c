//! The AppArmor profile language: lossless parse, edit, includes and variables.
