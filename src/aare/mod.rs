//! AppArmor regular expressions (AARE) compiled to automata with the parser's semantics.
