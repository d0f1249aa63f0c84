"""The linker's report as one line, and the linker script from a device's budget."""

from __future__ import annotations

import pytest

from edge_shm.errors import UserError
from edge_shm.firmware_sim.c.toolchain import BOARD_BYTES, link_error, linker_script

LD_OVERFLOW = """\
/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: esf_m4.elf section \
`.bss' will not fit in region `RAM'
/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: region `RAM' overflowed by \
1398112 bytes
collect2: error: ld returned 1 exit status
"""


@pytest.mark.fast
def test_an_overflow_names_section_region_and_bytes():
    assert link_error(LD_OVERFLOW) == "section .bss overflows RAM by 1,398,112 B"


@pytest.mark.fast
def test_other_errors_give_their_first_error_line():
    err = "model.c: In function 'x':\nmodel.c:3:1: error: expected ';' before '}' token\n"
    assert link_error(err) == "model.c:3:1: error: expected ';' before '}' token"


@pytest.mark.fast
def test_the_linker_script_carries_the_budget():
    text = linker_script(512 * 1024, 2 * 1024**2, "mcu-512k")
    assert "LENGTH = 524288" in text and "LENGTH = 2097152" in text
    with pytest.raises(UserError, match="exceeds the emulated board"):
        linker_script(BOARD_BYTES + 1, 1024, "big")
