"""Programs pasted verbatim from ../shared/spec/language.md, the oracle of several tests."""

MAJORITY = (
    "// comments run to the end of the line; '#' works too\n"
    "input x[3]                                  // three input neurons x[0], x[1], x[2]\n"
    "\n"
    "neuron maj (threshold = 2, decay = 1)       // a 2-of-3 majority gate\n"
    "for i in 0..3 {                             // 0..3 is 0, 1, 2 (end excluded)\n"
    "    x[i] -> maj                             // weight 1, delay 1 by default\n"
    "}\n"
    "neuron slow (threshold = 1, decay = 1)\n"
    "maj -> slow (weight = 1, delay = 4)\n"
    "\n"
    "probe maj, slow\n"
)
