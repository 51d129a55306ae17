"""Lead-lag estimators: FFT cross-correlation with a scan-adjusted null, and Granger causality.

Convention, stated in every result: a positive lag ``k`` means the leader's move at ``t`` goes
with the follower's move at ``t + k`` (the leader moves first). The unit is bars of the
calendar the series were aligned on. Inputs are returns (or changes), never price levels.

Modules: ``xcorr`` (the scan and its sign-flip null), ``rolling`` (windows and the count's
null), ``granger`` (pairwise Granger), ``var`` (VAR, block Granger, impulse responses) and
``hy`` (Hayashi-Yoshida on asynchronous observations); ``_common`` holds what they share.
"""

from __future__ import annotations

from havenflow.analytics.leadlag._common import NullMethod, Seed, min_obs, scan_block_length
from havenflow.analytics.leadlag.granger import CovType, GrangerCausality, GrangerResult
from havenflow.analytics.leadlag.hy import HayashiYoshida, HayashiYoshidaResult, hy_covariance
from havenflow.analytics.leadlag.rolling import RollingCrossCorrelation, RollingLeadLagResult
from havenflow.analytics.leadlag.var import (
    BlockGrangerResult,
    ImpulseResponseResult,
    VARLeadLagResult,
    VARResult,
    VectorAutoregression,
    var_leadlag,
)
from havenflow.analytics.leadlag.xcorr import (
    CrossCorrelation,
    CrossCorrelationResult,
    cross_correlation,
)

__all__ = [
    "BlockGrangerResult",
    "CovType",
    "CrossCorrelation",
    "CrossCorrelationResult",
    "GrangerCausality",
    "GrangerResult",
    "HayashiYoshida",
    "HayashiYoshidaResult",
    "ImpulseResponseResult",
    "NullMethod",
    "RollingCrossCorrelation",
    "RollingLeadLagResult",
    "Seed",
    "VARLeadLagResult",
    "VARResult",
    "VectorAutoregression",
    "cross_correlation",
    "hy_covariance",
    "min_obs",
    "scan_block_length",
    "var_leadlag",
]
