import Foundation
import Engine
import Pictures

/// Writing figures to disk: atomically (temporary file, then rename), so a half-written PNG or
/// report never replaces a good one.
public enum Figures {
    public static func writePNG(_ image: RGBImage, to url: URL) throws {
        try AtomicFile.write(Data(PNG.encode(image)), to: url)
    }
}
