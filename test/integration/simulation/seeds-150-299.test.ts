// The simulation's CI slice, part 2 of 2 (two files, so the slice runs on both cores).
import { simulationSlice } from "./simulation-slice";

simulationSlice(150, 150);
