"""Hand pose from the camera: MediaPipe landmarks, the articulated hand model, inverse kinematics, MANO."""
