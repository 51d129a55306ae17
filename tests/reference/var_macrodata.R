# Reference numbers from R for tests/test_var.py and the Newey-West tests of Granger and drivers.
#
# NOTE: the R package vars is NOT packaged in Debian (there is no r-cran-vars), and this reference
# is made from Debian packages alone (apt-get install r-base-core r-cran-sandwich). The script
# therefore RE-IMPLEMENTS IN BASE R the documented formulas of vars 1.6-1 (CRAN, 2024-03-20;
# source: https://github.com/cran/vars, files R/VAR.R, R/VARselect.R, R/causality.R, R/toMlm.R,
# R/Phi.varest.R, R/Psi.varest.R, R/logLik.varest.R). It does not call vars. What it mirrors:
#
#   VAR(y, p, type):   least squares of every equation on [lags 1..p of all series, deterministic
#                      terms]; vars' toMlm() refits it as one multivariate lm (an "mlm"), which is
#                      what causality() and sandwich work on. Here: lm(Y ~ X), X = the lags.
#   logLik.varest:     -(obs K / 2) log(2 pi) - (obs / 2) log det(S) - (1/2) tr(U S^-1 U'),
#                      S = crossprod(U) / obs.
#   VARselect:         on the common sample (the first lag.max rows are presample for every
#                      order i): log det(crossprod(U) / sample) + c / sample * (i K^2 + K detint),
#                      c = 2 (AIC), 2 log log sample (HQ), log sample (SC);
#                      FPE = ((sample + nstar) / (sample - nstar))^K det(crossprod(U) / sample).
#   causality(x, cause, vcov.):
#                      F = (R b)' (R V R')^-1 (R b) / N, b = as.vector(coef(mlm)) (equation by
#                      equation), R selects lags 1..p of `cause` in every other equation,
#                      V = vcov(mlm) (= kronecker(crossprod(U) / (obs - m), solve(Z'Z))) or
#                      vcov.(mlm), df = (N = p K_cause K_caused, K obs - length(PI)).
#                      vars always tests `cause` against all other series; causality_block() below
#                      is the same Wald test with a chosen subset of caused equations (as
#                      statsmodels' test_causality), and equals vars' when the subset is
#                      "all others".
#   Psi.varest:        orthogonalised responses Phi_h P, P = t(chol(crossprod(U) / (obs - m))),
#                      Phi_0 = I, Phi_h = sum_{j=1..min(h,p)} Phi_{h-j} A_j.
#
# Robust covariances come from sandwich itself (vcovHC, NeweyWest on the mlm, as vars' documented
# causality(x, cause, vcov. = ...) would pass them), with prewhite = FALSE. Note that on an mlm,
# NeweyWest(adjust = TRUE) scales by n / (n - k) with k = ncol(estfun) = K m (all equations'
# coefficients), while vcovHC(type = "HC1") uses n / (n - m) per equation; both are recorded, and
# NeweyWest(adjust = TRUE) on each equation's own lm (n / (n - m)) as well.
#
# Run from the repository root:   Rscript tests/reference/var_macrodata.R
# Reads tests/reference/macrodata.csv (written by make_var_reference.py) and writes
# tests/reference/var_macrodata_r.json.

suppressPackageStartupMessages(library(sandwich))

here <- "tests/reference"
lev <- read.csv(file.path(here, "macrodata.csv"))
names_ <- c("realgdp", "realcons", "realinv")
y <- diff(log(as.matrix(lev[, names_])))
colnames(y) <- names_
K <- ncol(y)
HAC_LAG <- 4L
HORIZONS <- c(0L, 1L, 2L, 5L, 10L)

# ---- a minimal JSON writer (jsonlite is not installed) ------------------------------------------
to_json <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (!is.null(names(x))) {
      items <- mapply(function(k, v) paste0('"', k, '": ', to_json(v)), names(x), x)
      return(paste0("{", paste(items, collapse = ", "), "}"))
    }
    return(paste0("[", paste(vapply(x, to_json, ""), collapse = ", "), "]"))
  }
  if (is.matrix(x)) {
    rows <- lapply(seq_len(nrow(x)), function(i) as.vector(x[i, ]))
    return(paste0("[", paste(vapply(rows, function(r) to_json_vec(r), ""), collapse = ", "), "]"))
  }
  if (length(x) == 1 && is.null(attr(x, "as_array"))) return(to_json_scalar(x))
  to_json_vec(x)
}
to_json_scalar <- function(v) {
  if (is.character(v)) return(paste0('"', v, '"'))
  if (is.logical(v)) return(if (v) "true" else "false")
  if (!is.finite(v)) stop("non-finite number")
  if (is.integer(v)) return(as.character(v))
  sprintf("%.17g", v)
}
to_json_vec <- function(v) paste0("[", paste(vapply(as.list(v), to_json_scalar, ""), collapse = ", "), "]")
arr <- function(v) structure(v, as_array = TRUE)

# ---- VAR(p) as vars fits it ----------------------------------------------------------------------
lags_matrix <- function(y, p, start = p) {
  # rows start+1..n (1-based); columns lag 1 of every series, then lag 2, ... (vars' order)
  n <- nrow(y)
  rows <- (start + 1):n
  do.call(cbind, lapply(seq_len(p), function(j) y[rows - j, , drop = FALSE]))
}

var_fit <- function(y, p, type = "const") {
  n <- nrow(y)
  X <- lags_matrix(y, p)
  Y <- y[(p + 1):n, , drop = FALSE]
  obs <- nrow(Y)
  trend <- seq(p + 1, length.out = obs)  # vars: trend = seq(p + 1, length = sample)
  fit <- switch(type,
    const = lm(Y ~ X),
    both = lm(Y ~ trend + X),
    none = lm(Y ~ X - 1)
  )
  U <- resid(fit)
  m <- ncol(model.matrix(fit))
  S_ml <- crossprod(U) / obs
  llf <- -(obs * K / 2) * log(2 * pi) - (obs / 2) * log(det(S_ml)) -
    0.5 * sum(diag(U %*% solve(S_ml) %*% t(U)))
  detint <- m - K * p
  ld <- log(det(S_ml))
  free <- p * K^2 + K * detint
  list(
    fit = fit, p = p, obs = obs, m = m, type = type,
    PI = coef(fit), U = U,
    sigma_u = crossprod(U) / (obs - m), sigma_u_mle = S_ml,
    llf = llf,
    aic = ld + 2 / obs * free,
    hq = ld + 2 * log(log(obs)) / obs * free,
    sc = ld + log(obs) / obs * free,
    fpe = ((obs + m) / (obs - m))^K * det(S_ml)
  )
}

var_select <- function(y, lag.max) {
  # vars::VARselect(y, lag.max, type = "const"), line by line
  ylagged <- lags_matrix(y, lag.max)
  yendog <- y[-c(1:lag.max), ]
  sample <- nrow(ylagged)
  rhs <- rep(1, sample)
  detint <- 1
  idx <- seq(K, K * lag.max, K)
  criteria <- matrix(NA, nrow = 4, ncol = lag.max)
  rownames(criteria) <- c("AIC(n)", "HQ(n)", "SC(n)", "FPE(n)")
  for (i in 1:lag.max) {
    ys.lagged <- cbind(ylagged[, c(1:idx[i])], rhs)
    nstar <- ncol(ys.lagged)
    resids <- lm.fit(x = ys.lagged, y = yendog)$residuals
    sigma.det <- det(crossprod(resids) / sample)
    criteria[1, i] <- log(sigma.det) + (2 / sample) * (i * K^2 + K * detint)
    criteria[2, i] <- log(sigma.det) + (2 * log(log(sample)) / sample) * (i * K^2 + K * detint)
    criteria[3, i] <- log(sigma.det) + (log(sample) / sample) * (i * K^2 + K * detint)
    criteria[4, i] <- ((sample + nstar) / (sample - nstar))^K * sigma.det
  }
  list(selection = apply(criteria, 1, which.min), criteria = criteria, sample = sample)
}

# ---- causality: vars' Wald F, with a chosen block of caused equations ---------------------------
causality_block <- function(v, cause, caused = setdiff(names_, cause), V = vcov(v$fit)) {
  PI <- v$PI                         # m x K: rows regressors, columns equations
  m <- nrow(PI)
  det_rows <- m - K * v$p            # deterministic terms come first in lm's coefficients
  g <- unlist(lapply(seq_len(v$p), function(j) det_rows + (j - 1) * K + match(cause, names_)))
  R2 <- matrix(0, nrow = m, ncol = K)
  R2[g, match(caused, names_)] <- 1
  w <- which(as.vector(R2) != 0)
  N <- length(w)
  R <- matrix(0, nrow = N, ncol = length(PI))
  for (i in 1:N) R[i, w[i]] <- 1
  b <- as.vector(PI)
  wald <- as.numeric(t(R %*% b) %*% solve(R %*% V %*% t(R)) %*% (R %*% b))
  df1 <- v$p * length(cause) * length(caused)
  df2 <- K * v$obs - length(PI)
  stopifnot(df1 == N)
  list(
    cause = arr(cause), caused = arr(caused), wald = wald, statistic = wald / N,
    df = arr(c(df1, df2)), pvalue = pf(wald / N, df1, df2, lower.tail = FALSE)
  )
}

# Newey-West of one equation's own lm: the single-equation route (n / (n - m) when adjusted)
equation_wald <- function(v, cause, eq, adjust) {
  Y <- model.response(model.frame(v$fit))
  X <- model.matrix(v$fit)
  f <- lm(Y[, eq] ~ X - 1)
  V <- NeweyWest(f, lag = HAC_LAG, prewhite = FALSE, adjust = adjust)
  m <- ncol(X)
  det_rows <- m - K * v$p
  g <- unlist(lapply(seq_len(v$p), function(j) det_rows + (j - 1) * K + match(cause, names_)))
  b <- coef(f)[g]
  wald <- as.numeric(t(b) %*% solve(V[g, g]) %*% b)
  list(cause = arr(cause), caused = eq, wald = wald, adjust = adjust)
}

irf_at <- function(v, horizons, ortho = TRUE) {
  p <- v$p
  A <- lapply(seq_len(p), function(j) {
    rows <- (nrow(v$PI) - K * p) + (j - 1) * K + 1:K
    t(v$PI[rows, , drop = FALSE])   # A_j[eq, series]
  })
  H <- max(horizons)
  Phi <- vector("list", H + 1)
  Phi[[1]] <- diag(K)
  for (h in seq_len(H)) {
    acc <- matrix(0, K, K)
    for (j in seq_len(min(h, p))) acc <- acc + Phi[[h - j + 1]] %*% A[[j]]
    Phi[[h + 1]] <- acc
  }
  P <- if (ortho) t(chol(v$sigma_u)) else diag(K)
  lapply(horizons, function(h) Phi[[h + 1]] %*% P)
}

fit_json <- function(v, tests) {
  list(
    p = v$p, type = v$type, obs = v$obs,
    params_rownames = arr(c(
      list(const = "const", both = c("const", "trend"), none = character(0))[[v$type]],
      paste0("L", rep(seq_len(v$p), each = K), ".", names_)
    )),
    params = unname(v$PI), sigma_u = unname(v$sigma_u), sigma_u_mle = unname(v$sigma_u_mle),
    llf = v$llf, aic = v$aic, hq = v$hq, sc = v$sc, fpe = v$fpe,
    causality = tests,
    irf_horizons = arr(HORIZONS),
    orth_irfs = lapply(irf_at(v, HORIZONS, TRUE), unname),
    irfs = lapply(irf_at(v, HORIZONS, FALSE), unname)
  )
}

blocks <- list(
  list(cause = "realgdp", caused = "realcons"),
  list(cause = "realcons", caused = "realgdp"),
  list(cause = c("realgdp", "realcons"), caused = "realinv"),
  list(cause = "realinv", caused = c("realgdp", "realcons")),
  list(cause = c("realcons", "realinv"), caused = "realgdp"),
  list(cause = "realgdp", caused = c("realcons", "realinv"))
)
classical <- function(v) lapply(blocks, function(b) causality_block(v, b$cause, b$caused))

v2 <- var_fit(y, 2, "const")
fits <- list(
  c_2 = fit_json(v2, classical(v2)),
  ct_2 = {
    v <- var_fit(y, 2, "both")
    fit_json(v, classical(v))
  },
  n_2 = {
    v <- var_fit(y, 2, "none")
    fit_json(v, classical(v))
  },
  c_3 = {
    v <- var_fit(y, 3, "const")
    fit_json(v, classical(v))
  }
)

# vars' own causality(): `cause` against all other series
vars_causality <- lapply(
  list("realgdp", c("realgdp", "realcons"), "realinv"),
  function(cause) causality_block(v2, cause)
)

# Robust block tests on the VAR(2): vars' causality(x, cause, vcov. = <sandwich estimator>)
robust_cov <- list(
  HC0 = vcovHC(v2$fit, type = "HC0"),
  HC1 = vcovHC(v2$fit, type = "HC1"),
  HC3 = vcovHC(v2$fit, type = "HC3"),
  HAC = NeweyWest(v2$fit, lag = HAC_LAG, prewhite = FALSE, adjust = FALSE),
  HAC_adjust_mlm = NeweyWest(v2$fit, lag = HAC_LAG, prewhite = FALSE, adjust = TRUE)
)
robust <- lapply(robust_cov, function(V) {
  lapply(blocks, function(b) causality_block(v2, b$cause, b$caused, V))
})
equation_hac <- list(
  equation_wald(v2, c("realgdp", "realcons"), "realinv", FALSE),
  equation_wald(v2, c("realgdp", "realcons"), "realinv", TRUE),
  equation_wald(v2, c("realcons", "realinv"), "realgdp", TRUE),
  equation_wald(v2, "realgdp", "realcons", TRUE)
)

# A Granger-type regression: realcons on a constant, its own lags 1..2 and realgdp's lags 1..2
# (lmtest::grangertest's design), with Newey-West covariances with and without adjustment.
gdp <- y[, "realgdp"]
cons <- y[, "realcons"]
n <- length(cons)
t_ <- 3:n
gfit <- lm(cons[t_] ~ cons[t_ - 1] + cons[t_ - 2] + gdp[t_ - 1] + gdp[t_ - 2])
granger_nw <- lapply(c(FALSE, TRUE), function(adjust) {
  V <- NeweyWest(gfit, lag = HAC_LAG, prewhite = FALSE, adjust = adjust)
  b <- coef(gfit)[4:5]
  wald <- as.numeric(t(b) %*% solve(V[4:5, 4:5]) %*% b)
  list(
    adjust = adjust, lag = HAC_LAG, nobs = length(t_),
    coef = arr(unname(coef(gfit))), vcov = unname(V),
    wald = wald, statistic = wald / 2, df = arr(c(2L, length(t_) - 5L)),
    pvalue = pf(wald / 2, 2, length(t_) - 5, lower.tail = FALSE)
  )
})

sel <- var_select(y, 8)
out <- list(
  generator = "tests/reference/var_macrodata.R",
  r_version = R.version.string,
  sandwich = as.character(packageVersion("sandwich")),
  reimplements = "vars 1.6-1 formulas in base R (vars is not packaged in Debian)",
  data = "statsmodels macrodata: log differences of realgdp, realcons, realinv",
  names = arr(names_),
  fits = fits,
  varselect = list(
    lag_max = 8L, sample = sel$sample,
    selection = list(
      AIC = unname(sel$selection[1]), HQ = unname(sel$selection[2]),
      SC = unname(sel$selection[3]), FPE = unname(sel$selection[4])
    ),
    AIC = arr(unname(sel$criteria[1, ])), HQ = arr(unname(sel$criteria[2, ])),
    SC = arr(unname(sel$criteria[3, ])), FPE = arr(unname(sel$criteria[4, ]))
  ),
  vars_causality = vars_causality,
  hac_lag = HAC_LAG,
  robust = robust,
  equation_hac = equation_hac,
  granger_newey_west = granger_nw
)
path <- file.path(here, "var_macrodata_r.json")
writeLines(to_json(out), path)
cat("wrote", path, "\n")
