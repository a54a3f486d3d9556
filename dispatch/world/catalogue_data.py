"""Static catalogue data: what a security and IT systems integrator (seed 003) looks after.

Brands and model numbers are invented; prices are plausible 2026 purchase costs in CNY.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LineSpec:
    """A product line with the families of its models and the templates of its parts."""

    code: str
    name: str
    prefix: str  # SKU and model-code prefix
    brand: str
    families: tuple[tuple[str, str], ...]  # (code, name) of model families
    # (code, name, lowest cost, highest cost, key part): ten per line, two of them key
    # parts, so about 20% of the SKUs are key parts.
    parts: tuple[tuple[str, str, int, int, bool], ...]
    service_factor: float  # standard service time relative to CCTV


LINES: tuple[LineSpec, ...] = (
    LineSpec(
        "cctv",
        "Video surveillance (CCTV)",
        "CV",
        "Haishi",
        (
            ("IPB", "4 MP bullet camera"),
            ("IPD", "8 MP dome camera"),
            ("PTZ", "PTZ speed dome"),
            ("NVR", "32-channel NVR"),
            ("DEC", "Video wall decoder"),
        ),
        (
            ("LENS", "Varifocal lens 2.8-12 mm", 80, 260, False),
            ("IRB", "IR illuminator board", 30, 90, False),
            ("PSU", "12 V DC power adapter", 25, 80, False),
            ("HDD", "Surveillance hard disk 8 TB", 450, 1300, False),
            ("FAN", "NVR cooling fan", 20, 60, False),
            ("HSG", "Outdoor camera housing", 60, 220, False),
            ("POE", "PoE injector 30 W", 60, 180, False),
            ("CBL", "Video cable kit", 20, 90, False),
            ("SEN", "Camera sensor module", 300, 1200, True),
            ("NMB", "NVR main board", 900, 3200, True),
        ),
        1.0,
    ),
    LineSpec(
        "access",
        "Access control and intercom",
        "AC",
        "Anmen",
        (
            ("DC", "Two-door controller"),
            ("FR", "Face-recognition terminal"),
            ("TS", "Swing turnstile"),
            ("VI", "Video intercom station"),
        ),
        (
            ("RDR", "IC card reader", 120, 480, False),
            ("LCK", "Magnetic lock 280 kg", 150, 420, False),
            ("BTN", "Exit button", 15, 60, False),
            ("PSU", "Access power supply 12 V 5 A", 80, 220, False),
            ("CAM", "Face camera module", 400, 1200, False),
            ("CLS", "Door closer", 90, 300, False),
            ("BAT", "Backup battery 12 V 7 Ah", 60, 150, False),
            ("RLY", "Relay board", 40, 150, False),
            ("CTL", "Door controller board", 600, 1800, True),
            ("TRN", "Turnstile motor drive", 1200, 3800, True),
        ),
        1.0,
    ),
    LineSpec(
        "network",
        "Network switching",
        "NW",
        "Tongxun",
        (
            ("AS", "24-port access switch"),
            ("CS", "Core switch chassis"),
            ("AP", "Wi-Fi 6 access point"),
            ("FW", "Firewall appliance"),
        ),
        (
            ("SFP", "SFP transceiver 1G", 60, 260, False),
            ("SFX", "SFP+ transceiver 10G", 180, 900, False),
            ("FAN", "Switch fan tray", 120, 480, False),
            ("PSU", "Switch power module", 350, 1500, False),
            ("PAT", "Patch cord kit", 20, 80, False),
            ("CON", "Console cable", 15, 40, False),
            ("ANT", "Access point antenna", 40, 160, False),
            ("RCK", "Rack mounting kit", 40, 150, False),
            ("SUP", "Supervisor engine", 4000, 18000, True),
            ("LCD", "24-port line card", 2500, 9000, True),
        ),
        1.2,
    ),
    LineSpec(
        "power",
        "UPS and power",
        "PW",
        "Huadian",
        (
            ("U10", "10 kVA online UPS"),
            ("U60", "60 kVA modular UPS"),
            ("PDU", "Intelligent PDU"),
            ("BCB", "Battery cabinet"),
        ),
        (
            ("BAT", "VRLA battery 12 V 100 Ah", 600, 1500, False),
            ("FAN", "UPS cooling fan", 60, 200, False),
            ("CAP", "DC bus capacitor set", 150, 600, False),
            ("FUS", "Fuse kit", 20, 90, False),
            ("BRK", "Circuit breaker", 80, 450, False),
            ("SNM", "SNMP card", 500, 1600, False),
            ("LCD", "Front display panel", 150, 500, False),
            ("STS", "Static switch module", 800, 2600, False),
            ("PWM", "Power module 10 kVA", 3500, 12000, True),
            ("CTB", "UPS control board", 1200, 4500, True),
        ),
        1.3,
    ),
    LineSpec(
        "server",
        "Servers and storage",
        "SV",
        "Zhongke",
        (
            ("R2", "2U rack server"),
            ("R1", "1U rack server"),
            ("SA", "Storage array"),
            ("BL", "Blade chassis"),
        ),
        (
            ("HDD", "Enterprise HDD 2.4 TB SAS", 900, 2400, False),
            ("SSD", "Enterprise SSD 1.92 TB", 1200, 4200, False),
            ("RAM", "DDR4 RDIMM 32 GB", 600, 1600, False),
            ("FAN", "Server fan module", 120, 400, False),
            ("PSU", "Server power supply 800 W", 600, 1800, False),
            ("BBU", "RAID cache battery", 150, 500, False),
            ("NIC", "10G network adapter", 600, 2200, False),
            ("RLS", "Rail kit", 150, 450, False),
            ("MBD", "System board", 5000, 16000, True),
            ("CTR", "Storage controller", 6000, 22000, True),
        ),
        1.5,
    ),
    LineSpec(
        "fire",
        "Fire alarm",
        "FA",
        "Xiaoan",
        (
            ("P2", "2-loop fire alarm panel"),
            ("P8", "8-loop fire alarm panel"),
            ("GW", "Fire alarm network gateway"),
        ),
        (
            ("SMK", "Optical smoke detector", 40, 140, False),
            ("HEA", "Heat detector", 35, 120, False),
            ("MCP", "Manual call point", 30, 90, False),
            ("SND", "Sounder beacon", 60, 200, False),
            ("MOD", "Input/output module", 80, 260, False),
            ("ISO", "Loop isolator", 50, 180, False),
            ("BAT", "Panel battery 12 V 17 Ah", 150, 380, False),
            ("PSU", "Panel power supply", 300, 900, False),
            ("LPC", "Loop card", 900, 2600, True),
            ("CPU", "Control panel CPU board", 1500, 5200, True),
        ),
        1.1,
    ),
)

# (code, name, standard service minutes for CCTV, required skill level)
FAULT_CLASSES: tuple[tuple[str, str, int, int], ...] = (
    ("no-power", "No power", 60, 1),
    ("hardware", "Hardware failure", 120, 2),
    ("connectivity", "Connection lost", 90, 1),
    ("software", "Software or configuration fault", 90, 2),
    ("degraded", "Degraded performance", 150, 3),
    ("inspection", "Preventive inspection", 60, 1),
)

# (code, name, kind, GeoNames id of its town or None, lead time in hours, line codes).
# Strategic partners (with branches) deliver within a day; suppliers ship from stock in days.
SUPPLIERS: tuple[tuple[str, str, str, int | None, int, tuple[str, ...]], ...] = (
    (
        "SUP-HAISHI",
        "Shenzhen Haishi Digital Technology Co., Ltd.",
        "supplier",
        1795565,
        72,
        ("cctv",),
    ),
    ("SUP-ANMEN", "Zhuhai Anmen Intelligent Co., Ltd.", "supplier", 1790437, 96, ("access",)),
    ("SUP-TONGXUN", "Dongguan Tongxun Networks Co., Ltd.", "supplier", 1812545, 120, ("network",)),
    (
        "SUP-HUADIAN",
        "Foshan Huadian Power Equipment Co., Ltd.",
        "supplier",
        1811103,
        96,
        ("power",),
    ),
    ("SUP-ZHONGKE", "Zhongke Computing (national distributor)", "supplier", None, 168, ("server",)),
    ("SUP-XIAOAN", "Huizhou Xiaoan Fire Safety Co., Ltd.", "supplier", 1806776, 72, ("fire",)),
    (
        "PTN-YUEXIN",
        "Guangdong Yuexin Systems Integration Co., Ltd.",
        "partner",
        1809858,
        12,
        ("cctv", "access", "fire"),
    ),
    ("PTN-NANHAI", "Nanhai IT Services Co., Ltd.", "partner", 1811103, 8, ("network", "server")),
    (
        "PTN-CHAOSHAN",
        "Chaoshan Power and Security Engineering Co., Ltd.",
        "partner",
        1795940,
        24,
        ("power", "cctv"),
    ),
)
