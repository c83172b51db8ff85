"""Slot numbers of the engine's flat arrays, shared by the numba kernels and the pandas layer.

The kernels keep their parameters, running state and trade records in plain float64 arrays so
one compiled function serves every option combination and a sweep can run it in threads with
no Python objects in the loop. Module-level ints are compile-time constants to numba, whose
cache checks only each kernel's own file: renumbering a slot needs the cached kernels of every
file that reads it cleared (`backtest/__pycache__/*.nb[ic]`).
"""

from __future__ import annotations

# --- parameters (P_*) -------------------------------------------------------------------
P_FILL_CLOSE = 0  # 1: fill at the signal bar's close; 0: at the next bar's open
P_FEE = 1  # fraction of notional per fill (4.5 bps = 0.00045)
P_SLIP = 2  # fraction: buys fill higher, sells lower
P_INIT_CASH = 3
P_SIZING = 4  # SIZING_* below
P_SIZE = 5  # fraction of equity, notional in quote currency, or risk fraction per trade
P_ATR_MULT = 6  # stop distance in ATRs for risk sizing
P_TP = 7  # fraction from the (average) fill price; NaN = none
P_SL = 8
P_INTRABAR = 9  # INTRABAR_* below
P_MODE = 10  # MODE_* below
P_GRID_STEP = 11  # fraction from the last fill
P_GRID_ADDS = 12
P_MART_MULT = 13
P_MART_CAP = 14  # largest size multiplier
P_KELLY = 15  # 0 = off, else the multiple of the Kelly fraction to bet (0.5 = half Kelly)
P_KELLY_MIN = 16  # closed trades needed before Kelly sizing starts
P_MAX_DD = 17  # kill-switch drawdown as a fraction; NaN = off
N_PARAMS = 18

SIZING_FRACTION = 0
SIZING_NOTIONAL = 1
SIZING_RISK = 2

INTRABAR_SL_FIRST = 0
INTRABAR_OHLC_PATH = 1
INTRABAR_NEAREST_EXTREME = 2

MODE_NONE = 0
MODE_GRID = 1
MODE_MARTINGALE = 2

# --- running state (S_*): the position, and accumulators the stats are computed from -----
S_CASH = 0
S_UNITS = 1  # signed: > 0 long, < 0 short
S_AVG = 2  # average entry fill price of the open position
S_ENTRY_BAR = 3
S_ENTRY_FEES = 4
S_TP_LVL = 5
S_SL_LVL = 6
S_STOP_DIST = 7  # absolute ATR stop distance (risk sizing), NaN when stops are percentages
S_LAST_FILL = 8  # grid: price of the last fill
S_ADDS = 9
S_BASE_NOTIONAL = 10  # grid: notional of the first fill, bought again at each add
S_MULT = 11  # martingale multiplier
S_KILLED = 12
S_PEAK = 13
S_MAX_DD = 14  # fraction
S_TRADES = 15
S_WINS = 16
S_GROSS_PROFIT = 17
S_GROSS_LOSS = 18  # positive
S_SUM_WIN_RET = 19  # Kelly: sums of winning / losing trade returns (fractions, positive)
S_SUM_LOSS_RET = 20
S_SUM_TRADE_RET = 21  # for the average trade %
S_FEES = 22
S_EXPOSED = 23  # bars during which a position was held
S_SUM_R = 24  # bar returns of the equity curve: sum, sum of squares, sum of squared losses
S_SUM_R2 = 25
S_SUM_DOWN2 = 26
S_PREV_EQ = 27  # equity at the last close: the final equity once the run ends
S_BARS = 28
S_REC = 29  # trade records written
N_STATE = 30

# --- trade records (R_*): one row per round trip ---------------------------------------
R_ENTRY_BAR = 0
R_EXIT_BAR = 1
R_SIDE = 2
R_UNITS = 3
R_ENTRY_PRICE = 4
R_EXIT_PRICE = 5
R_FEES = 6
R_PNL = 7
R_RETURN = 8  # fraction of the entry notional, net of fees
R_REASON = 9
R_ADDS = 10
N_REC = 11

REASON_SIGNAL = 0
REASON_TP = 1
REASON_SL = 2
REASON_KILL = 3
REASON_END = 4
REASONS = ("signal", "tp", "sl", "kill", "end")
