import bcrypt from "bcryptjs";

// bcryptjs: maintained, pure JavaScript (no native build). Cost 12 ≈ 250 ms here.
const COST = 12;

export function hashPassword(plain: string, cost: number = COST): Promise<string> {
  return bcrypt.hash(plain, cost);
}

export function verifyPassword(plain: string, hash: string): Promise<boolean> {
  return bcrypt.compare(plain, hash);
}

// Compared against when the email is unknown, so both paths take the same time.
export const TIMING_DUMMY_HASH = "$2b$12$zO3ipkdRqaWGX9ZYsOyT/.b7c.Mn3Q4WTP96kO36lxFaggtHAfHUO";
