//! Starting and stopping the sandbox: the router of contract and `/sim` routes, served on a tokio task.

use crate::control::{self, SimControl};
use crate::elicense;
use crate::fault::Fault;
use crate::gateway::{self, gateway_error};
use crate::route::Route;
use crate::state::Sim;
use crate::yst;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, get, post};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;
use yueshang_core::clock::{Clock, SystemClock};
use yueshang_core::config::Environment;
use yueshang_core::contract::Contract;

/// How long `shutdown` waits for answers in flight (a `slow-body` one may take long) before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How a sandbox starts: its clock, its environment's body limit, and the faults and latency in force.
#[derive(Clone)]
pub struct SimOptions {
    /// Added to every contract route's answer (not to `/sim`).
    pub latency: Duration,
    pub faults: Vec<Fault>,
    /// The gateway's clock: signature window, code and authorization expiry, `Date`.
    pub clock: Arc<dyn Clock>,
    /// The request body limit: 4 MiB for test, 8 MiB for production.
    pub environment: Environment,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            latency: Duration::ZERO,
            faults: Vec::new(),
            clock: Arc::new(SystemClock),
            environment: Environment::Test,
        }
    }
}

impl std::fmt::Debug for SimOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimOptions")
            .field("latency", &self.latency)
            .field("faults", &self.faults)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

/// A running sandbox gateway; stops when shut down or dropped.
#[derive(Debug)]
pub struct SandboxGateway {
    base_url: Url,
    control: SimControl,
    stop: Option<oneshot::Sender<()>>,
    serving: Option<JoinHandle<std::io::Result<()>>>,
}

impl SandboxGateway {
    /// Binds `addr` (`127.0.0.1:0` for a free port) and serves on a spawned task.
    pub async fn start(addr: SocketAddr, options: SimOptions) -> std::io::Result<SandboxGateway> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let base_url = Url::parse(&format!("http://{local}/")).map_err(std::io::Error::other)?;
        let sim = Arc::new(Sim::new(options.clock, options.environment, options.faults, options.latency));
        let app = router(Arc::clone(&sim));
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // A dropped sender stops the server as a sent signal does.
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(%base_url, environment = options.environment.as_str(), "sandbox gateway listening");
        Ok(SandboxGateway { base_url, control: SimControl::new(sim), stop: Some(stop), serving: Some(serving) })
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    pub fn control(&self) -> SimControl {
        self.control.clone()
    }

    /// Stops accepting, lets answers in flight finish for a moment, then cuts the rest.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut serving) = self.serving.take() {
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut serving).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => tracing::warn!(error = %e, "sandbox gateway stopped with an error"),
                Ok(Err(e)) => tracing::warn!(error = %e, "sandbox gateway task failed"),
                Err(_) => serving.abort(),
            }
        }
        tracing::info!(base_url = %self.base_url, "sandbox gateway stopped");
    }
}

impl Drop for SandboxGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The whole server: contract routes behind the TIF gateway layer, `/sim` beside them, `Date` on all.
fn router(sim: Arc<Sim>) -> Router {
    let contract = Contract::default();
    let mut app = control::routes();
    for route in Route::ALL {
        let gateway = from_fn_with_state((Arc::clone(&sim), route), gateway::tif_gateway);
        app = app.route(&crate::route::pattern(route, &contract), handler(route).layer(gateway));
    }
    let limit = sim.environment.body_limit();
    app.fallback(|| async { gateway_error(StatusCode::NOT_FOUND, (400004, "服务不存在")) })
        // The gateway layer enforces the limit with the contract's 413; extractors must not cut in before it.
        .layer(DefaultBodyLimit::max(limit))
        .layer(from_fn_with_state(Arc::clone(&sim), gateway::stamp_date))
        .with_state(sim)
}

fn handler(route: Route) -> MethodRouter<Arc<Sim>> {
    match route {
        Route::Code2Auth => post(yst::code2auth),
        Route::Submit => post(yst::submit),
        Route::Login => post(elicense::login),
        Route::LicenseAuth => post(elicense::license_auth),
        Route::GetLicense => get(elicense::get_license),
        Route::Archive => get(elicense::archive),
    }
}
