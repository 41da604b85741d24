"""bench/machine.py — the machine a benchmark ran on, as the benchmarks print and store it."""
import os
import platform


def facts():
    """CPU model, cores, memory (GiB) and system, as a dict."""
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem),
            "system": platform.platform()}


def describe():
    """One line: "CPU, N cores, M GiB, system"."""
    m = facts()
    return f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['system']}"
