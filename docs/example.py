"""havenflow from Python: does silver lead Bitcoin, as the January 2026 note claims?

Run it as a script (``python docs/example.py``) or paste it cell by cell into a notebook, where
every result shows as an HTML summary. The test suite runs this file on the bundled data.
"""

import havenflow as hf

# Weekly closes as they were known on the day the note was written (point in time).
df = hf.load(["silver", "gold", "bitcoin"], asof="2026-01-23", freq="W")
print(df.tail(3))

# The lag scan: positive lag = silver moves first; the p-value accounts for scanning 53 lags.
scan = hf.leadlag(df.silver, df.bitcoin, max_lag=26, seed=0)
print(scan.summary())
print("best lag", scan.lag, scan.lag_unit, "p", round(scan.pvalue, 3), "95% CI", scan.conf_int())

# Has the lead come and gone? Rolling windows, with the count judged against its own null.
rolling = hf.rolling_leadlag(df.silver, df.bitcoin, max_lag=26, seed=0)
print(rolling.summary())

# "Bitcoin follows gold AND silver": one VAR, a joint Granger test and impulse responses.
joint = hf.var(df[["gold", "silver"]], df.bitcoin, max_lag=8)
print(joint.summary())

# Results are plain data too: JSON-ready dicts and tables.
doc = scan.to_dict()
table = scan.to_frame()
figure = scan.plot()  # a plotly Figure: the profile with its null band
