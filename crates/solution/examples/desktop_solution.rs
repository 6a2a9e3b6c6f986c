//! Writes the example solution of the README's tour: a cloud flow that runs
//! a desktop flow through a `shared_uiflow` connection reference, the
//! desktop flow, and an environment variable for the machine group.
//!
//! `cargo run -p padconnect-solution --example desktop_solution -- examples/DesktopFlows_1_0_0_0.zip`

use padconnect_solution::Version;
use padconnect_solution::write::SolutionZip;
use uuid::Uuid;

fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "DesktopFlows_1_0_0_0.zip".into());
    let zip = SolutionZip::new("DesktopFlows", Version::new(1, 0, 0, 0))
        .connection_reference("new_sharedUiflow_5a1b2", "shared_uiflow")
        .cloud_flow(
            Uuid::from_u128(0x3f2a_9c41_7d6e_4b58_a1c2_d3e4_f5a6_b7c8),
            "Run the payroll export",
            &["new_sharedUiflow_5a1b2"],
        )
        .desktop_flow(
            Uuid::from_u128(0x8b7c_6d5e_4f3a_4b2c_9d1e_0f2a_3b4c_5d6e),
            "Payroll export",
        )
        .environment_variable("new_MachineGroupId", 100000000, None)
        .build()?;
    std::fs::write(&path, zip)?;
    eprintln!("wrote {path}");
    Ok(())
}
